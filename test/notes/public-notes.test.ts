// The public note scenarios (test/fixtures/notes/public-notes.json, copied from the shared scenarios): what the
// reader finds in each note, as the facts layer will need it. The decisions themselves are the facts layer's.
import { readFileSync } from 'node:fs';
import { isAffirming, isNegating, quoteOf, type Mention, type NoteReading } from '../../src/notes/index.js';
import { flags, read, spanText } from './reader.js';

interface FixtureNote {
  readonly scenario: string;
  readonly title: string;
  readonly resource: string;
  readonly contentType: string;
  readonly text: string;
}

const notes = (JSON.parse(readFileSync(new URL('../fixtures/notes/public-notes.json', import.meta.url), 'utf8')) as { notes: FixtureNote[] }).notes;

function note(scenario: string): FixtureNote {
  const found = notes.find((n) => n.scenario === scenario);
  if (found === undefined) {
    throw new Error(`no fixture note for ${scenario}`);
  }
  return found;
}

function reading(scenario: string, sets?: ReadonlySet<string>): NoteReading {
  const n = note(scenario);
  return read(n.text, { html: n.contentType === 'text/html', ...(sets === undefined ? {} : { sets }) });
}

/** Each mention of a set as "text [flags]" (kind marked for negating phrases). */
function seen(r: NoteReading, set: string): string[] {
  return r.mentions
    .filter((m) => m.set === set)
    .map((m) => `${spanText(r, m)}${m.kind === 'negating-phrase' ? ' (negating)' : ''}${flags(m).length > 0 ? ` [${flags(m).join(',')}]` : ''}`);
}

const affirming = (r: NoteReading, set: string, accepts: ('possible' | 'hypothetical' | 'historical')[] = []): Mention[] =>
  r.mentions.filter((m) => m.set === set && isAffirming(m, accepts));
const negating = (r: NoteReading, set: string): Mention[] => r.mentions.filter((m) => m.set === set && isNegating(m));

test('every public note scenario has its readable texts here (not note-20\'s PDF nor note-21\'s other-host note)', () => {
  expect(new Set(notes.map((n) => n.scenario)).size).toBe(30);
  expect(notes).toHaveLength(30);
});

test("note-01: saddle numbness in the HPI is an affirmed red flag", () => {
  const r = reading('note-01');
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle numbness']);
  expect(quoteOf(r, affirming(r, 'rf.saddle-anesthesia')[0]?.plainStart ?? 0, affirming(r, 'rf.saddle-anesthesia')[0]?.plainEnd ?? 0)).toBe(
    'Over the last 2 days he has noticed saddle numbness when sitting on the toilet.',
  );
});
test("note-02: 'denies saddle anesthesia' and 'Night pain is absent' negate two ask facts", () => {
  const r = reading('note-02');
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle anesthesia [negated]']);
  expect(seen(r, 'rf.night-pain-supine')).toEqual(['Night pain [negated]']);
});
test("note-03: 'concerning for metastatic disease' is a possible tumor and no cancer history", () => {
  const r = reading('note-03');
  expect(seen(r, 'rf.suspected-tumor')).toEqual(['metastatic disease [possible]']);
  expect(affirming(r, 'rf.suspected-tumor', ['possible'])).toHaveLength(1);
  expect(seen(r, 'rf.cancer-history')).toEqual([]);
});
test("note-04: 'possible discitis' is only possible", () => {
  const r = reading('note-04');
  expect(seen(r, 'rf.infection')).toEqual(['discitis [possible]']);
  expect(affirming(r, 'rf.infection')).toEqual([]);
});
test("note-05: 'Call if fever or urinary retention develops' is hypothetical; 'No numbness or weakness in the legs' negated", () => {
  const r = reading('note-05');
  expect(seen(r, 'rf.fever')).toEqual(['fever [hypothetical]']);
  expect(seen(r, 'rf.bladder-dysfunction')).toEqual(['urinary retention [hypothetical]']);
  expect(seen(r, 'rf.motor-weakness')).toEqual(['weakness in the legs [negated]']);
});
test("note-06: 'a history of fevers' is historical", () => {
  expect(seen(reading('note-06'), 'rf.fever')).toEqual(['fevers [historical]']);
});
test("note-07: 'h/o IVDU' under Social History is a historical IV drug use, which the fact accepts", () => {
  const r = reading('note-07');
  expect(seen(r, 'rf.iv-drug-use')).toEqual(['IVDU [historical]']);
  expect(affirming(r, 'rf.iv-drug-use', ['historical'])).toHaveLength(1);
});
test("note-08: 'her mother had breast cancer' is the mother's", () => {
  expect(seen(reading('note-08'), 'rf.cancer-history')).toEqual(['cancer [other]']);
});
test('note-09: a cancer under Family History is the family\'s', () => {
  expect(seen(reading('note-09'), 'rf.cancer-history')).toEqual(['cancer [other]']);
});
test('note-10: radiculopathy listed under PMH is historical', () => {
  const r = reading('note-10');
  expect(seen(r, 'rf.nerve-root-compromise')).toEqual(['Lumbar radiculopathy [historical]']);
  expect(affirming(r, 'rf.nerve-root-compromise')).toEqual([]);
});
test('note-11: red flags under Return Precautions are hypothetical', () => {
  const r = reading('note-11');
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle numbness [hypothetical]']);
  expect(seen(r, 'rf.motor-weakness')).toEqual(['leg weakness [hypothetical]']);
  expect(seen(r, 'rf.bladder-dysfunction')).toEqual(['loss of bladder control [hypothetical]']);
});
test("note-12: 'No improvement after 6 weeks of physical therapy' is 42 days of care", () => {
  const r = reading('note-12');
  expect(r.care.map((c) => [spanText(r, c.modality), c.basis === 'duration' ? c.days : NaN, flags(c)])).toEqual([['physical therapy', 42, []]]);
});
test("note-13: 'without relief despite meloxicam 15 mg daily for 5 weeks' is 35 days of care", () => {
  const r = reading('note-13');
  expect(r.care.map((c) => [spanText(r, c.modality), c.basis === 'duration' ? c.days : NaN, flags(c)])).toEqual([['meloxicam', 35, []]]);
});
test("note-14: 'Denies fever, but endorses saddle numbness' affirms the numbness and negates the fever", () => {
  const r = reading('note-14');
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle numbness']);
  expect(seen(r, 'rf.fever')).toEqual(['fever [negated]']);
});
test("note-15: 'Afebrile', '5/5 strength' and 'Bowel/bladder function intact' are negating phrases", () => {
  const r = reading('note-15');
  expect(seen(r, 'rf.fever')).toEqual(['Afebrile (negating)']);
  expect(seen(r, 'rf.motor-weakness')).toEqual(['5/5 strength (negating)']);
  expect(seen(r, 'rf.bladder-dysfunction')).toEqual(['Bowel/bladder function intact (negating)']);
  expect(negating(r, 'rf.fever')).toHaveLength(1);
});
test('note-16: a fever and chills are affirmed (the 30-day window is the facts layer\'s)', () => {
  const r = reading('note-16');
  expect(seen(r, 'rf.fever')).toEqual(['fever']);
  expect(seen(r, 'rf.chills')).toEqual(['chills']);
});
test("note-17: 'colon adenocarcinoma' is cancer history", () => {
  expect(seen(reading('note-17'), 'rf.cancer-history')).toEqual(['adenocarcinoma']);
});
test("note-18: 'unintentional weight loss' (the longest phrase) is affirmed", () => {
  expect(seen(reading('note-18'), 'rf.weight-loss')).toEqual(['unintentional weight loss']);
});
test("note-19: the HTML note's 'difficulty voiding' is affirmed, with offsets into the HTML", () => {
  const n = note('note-19');
  const r = reading('note-19');
  const m = affirming(r, 'rf.bladder-dysfunction')[0] as Mention;
  expect(n.text.slice(m.start, m.end)).toBe('difficulty voiding');
});
test('note-20: the readable note says nothing of fever or care', () => {
  const r = reading('note-20');
  expect(seen(r, 'rf.fever')).toEqual([]);
  expect(r.care).toEqual([]);
});
test("note-21: 'He denies saddle anesthesia and night pain' negates both", () => {
  const r = reading('note-21');
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle anesthesia [negated]']);
  expect(seen(r, 'rf.night-pain-supine')).toEqual(['night pain [negated]']);
});
test("note-22: the CT conclusion's 'Indeterminate' is read when the CT sets are asked for", () => {
  expect(seen(reading('note-22', new Set(['fact.ct-inconclusive'])), 'fact.ct-inconclusive')).toEqual(['Indeterminate']);
  expect(seen(reading('note-22'), 'fact.ct-inconclusive')).toEqual([]);
});
test("note-23: 'his pain has worsened' is new or worsening symptoms", () => {
  expect(seen(reading('note-23'), 'fact.new-or-worsening-symptoms')).toEqual(['pain has worsened']);
});
test("note-24: 'in PT since 10/21/2026' starts care on that date", () => {
  const r = reading('note-24');
  expect(r.care.map((c) => [spanText(r, c.modality), c.basis === 'date' ? new Date(c.startsAt).toISOString().slice(0, 10) : ''])).toEqual([['PT', '2026-10-21']]);
});
test("note-25: 'Low back pain for 6 weeks, started ibuprofen 3 days ago' is 3 days of ibuprofen", () => {
  const r = reading('note-25');
  expect(r.care.map((c) => [spanText(r, c.modality), c.basis === 'duration' ? c.days : NaN])).toEqual([['ibuprofen', 3]]);
});
test("note-26: 'a 3-week course of PT' is 21 days", () => {
  const r = reading('note-26');
  expect(r.care.map((c) => [spanText(r, c.modality), c.basis === 'duration' ? c.days : NaN])).toEqual([['PT', 21]]);
});
test("note-27: 'an ESI at L4-L5 if the images agree' is surgery considered ('if' comes after it)", () => {
  const r = reading('note-27');
  expect(seen(r, 'fact.surgery-considered')).toEqual(['ESI']);
  expect(affirming(r, 'fact.surgery-considered', ['possible', 'hypothetical'])).toHaveLength(1);
});
test("note-28: 'not a surgical candidate' negates surgery considered and nothing affirms it", () => {
  const r = reading('note-28');
  expect(seen(r, 'fact.surgery-considered')).toEqual(['not a surgical candidate (negating)']);
  expect(negating(r, 'fact.surgery-considered')).toHaveLength(1);
  expect(affirming(r, 'fact.surgery-considered', ['possible', 'hypothetical'])).toEqual([]);
  expect(seen(r, 'fact.uncomplicated-ddd')).toEqual(['disc degeneration']);
});
test('note-29: a full ROS and exam negate the five ask-only red flags', () => {
  const r = reading('note-29');
  expect(seen(r, 'rf.night-pain-supine')).toEqual(['night pain [negated]']);
  expect(seen(r, 'rf.saddle-anesthesia')).toEqual(['saddle anesthesia [negated]']);
  expect(seen(r, 'rf.anal-sphincter-laxity')).toEqual(['Rectal tone intact (negating)']);
  expect(seen(r, 'rf.perianal-sensory-loss')).toEqual(['Perianal sensation intact (negating)']);
  expect(seen(r, 'rf.suspected-tumor')).toEqual(['malignancy [negated]']);
  for (const set of ['rf.night-pain-supine', 'rf.saddle-anesthesia', 'rf.anal-sphincter-laxity', 'rf.perianal-sensory-loss', 'rf.suspected-tumor']) {
    expect(negating(r, set)).toHaveLength(1);
  }
  expect(seen(r, 'rf.fever')).toEqual(['fever [negated]']);
  expect(seen(r, 'rf.bladder-dysfunction')).toEqual(['bowel/bladder incontinence [negated]']);
});
test("note-30: 'Per pt' is the patient, so no physical therapy", () => {
  expect(reading('note-30').care).toEqual([]);
});
