// SPEC §8.6: conservative care in notes — modalities bound to durations and dates.
import { isAffirming, type CareMention } from '../../src/notes/index.js';
import { careOf, read, spanText } from './reader.js';

/** The one care record of a text, as {modality text, days or date}. */
function record(text: string, noteDate?: number): { modality: string; days?: number; date?: string } {
  const r = read(text, noteDate === undefined ? {} : { noteDate });
  if (r.care.length !== 1) {
    throw new Error(`expected one care record in ${JSON.stringify(text)}, found ${r.care.length}`);
  }
  const c = r.care[0] as CareMention;
  const modality = spanText(r, c.modality);
  return c.basis === 'duration' ? { modality, days: c.days } : { modality, date: new Date(c.startsAt).toISOString().slice(0, 10) };
}

describe('durations', () => {
  test("'6 weeks of PT without relief' gives a 42-day care record", () => {
    expect(record('Completed 6 weeks of PT without relief.')).toEqual({ modality: 'PT', days: 42 });
  });
  test("'no improvement after 6 weeks of physical therapy' is a 42-day record, not negated", () => {
    const c = careOf('No improvement after 6 weeks of physical therapy.');
    expect(c.map((x) => [x.basis === 'duration' ? x.days : 0, x.negated])).toEqual([[42, false]]);
    expect(isAffirming(c[0] as CareMention, ['historical'])).toBe(true);
  });
  test("'six weeks' in words counts like '6 weeks'", () => {
    expect(record('Completed six weeks of physical therapy.')).toEqual({ modality: 'physical therapy', days: 42 });
  });
  test("'a month' is 30 days: 'chiropractic care for about a month'", () => {
    expect(record('He has done chiropractic care for about a month.')).toEqual({ modality: 'chiropractic care', days: 30 });
  });
  test("'x6 wks' is the connector x and the number 6", () => {
    expect(record('PT x6 wks, no better.')).toEqual({ modality: 'PT', days: 42 });
    expect(record('PT x 6 wks, no better.')).toEqual({ modality: 'PT', days: 42 });
  });
  test("'a 2-week course of naproxen' is 14 days, 'a 3-week course of PT' 21", () => {
    expect(record('Completed a 2-week course of naproxen.')).toEqual({ modality: 'naproxen', days: 14 });
    expect(record('Completed a 3-week course of PT with partial relief.')).toEqual({ modality: 'PT', days: 21 });
  });
  test("'a six-week trial of gabapentin' is 42 days", () => {
    expect(record('Failed a six-week trial of gabapentin.')).toEqual({ modality: 'gabapentin', days: 42 });
  });
  test("'started meloxicam 5 weeks ago' is 35 days", () => {
    expect(record('Started meloxicam 5 weeks ago.')).toEqual({ modality: 'meloxicam', days: 35 });
  });
  test("'PT was started 8 weeks ago' is 56 days", () => {
    expect(record('PT was started 8 weeks ago.')).toEqual({ modality: 'PT', days: 56 });
  });
  test("'had PT 2 years ago' is a past event, not a duration", () => {
    expect(careOf('Had PT 2 years ago.')).toEqual([]);
  });
  test("'meloxicam 15 mg daily for 5 weeks' binds across the dose (four words between)", () => {
    expect(record('Pain persists without relief despite meloxicam 15 mg daily for 5 weeks.')).toEqual({ modality: 'meloxicam', days: 35 });
  });
  test('at most six words may stand between the modality and the number, the connector included', () => {
    expect(record('ibuprofen 600 mg by mouth nightly for 3 weeks')).toEqual({ modality: 'ibuprofen', days: 21 }); // 6 words
    expect(careOf('ibuprofen 600 mg by mouth every night for 3 weeks')).toEqual([]); // 7 words
  });
  test("'over the past 2 months' and 'for the past' are connectors", () => {
    expect(record('She has been doing HEP over the past 2 months.')).toEqual({ modality: 'HEP', days: 60 });
    expect(record('On naproxen for the past 3 weeks.')).toEqual({ modality: 'naproxen', days: 21 });
  });
  test("a range '4-6 weeks' counts its lower bound", () => {
    expect(record('Tried ibuprofen 600 mg TID for 4-6 weeks.')).toEqual({ modality: 'ibuprofen', days: 28 });
  });
  test('a duration with no connector is not bound: \'PT 6 weeks\'', () => {
    expect(careOf('PT 6 weeks.')).toEqual([]);
  });
  test('several durations bound to one modality: the longest', () => {
    const c = careOf('Ibuprofen for 2 weeks and for 5 weeks more.');
    expect(c.map((x) => (x.basis === 'duration' ? x.days : 0))).toEqual([35]);
  });
  test('each bound modality of a sentence gives its record (the facts layer keeps the longest)', () => {
    const c = careOf('PT for 3 weeks, then PT again for 5 weeks.');
    expect(c.map((x) => (x.basis === 'duration' ? x.days : 0))).toEqual([21, 35]);
  });
});

describe('what blocks a binding', () => {
  test("'back pain for 6 weeks, started ibuprofen' binds no duration to ibuprofen", () => {
    expect(careOf('Low back pain for 6 weeks, started ibuprofen.')).toEqual([]);
  });
  test("'back pain for 6 weeks, started ibuprofen 3 days ago' gives ibuprofen 3 days", () => {
    expect(record('Low back pain for 6 weeks, started ibuprofen 3 days ago.')).toEqual({ modality: 'ibuprofen', days: 3 });
  });
  test('a back-symptom phrase between modality and duration blocks: \'PT for back pain for 6 weeks\'', () => {
    expect(careOf('PT for back pain for 6 weeks.')).toEqual([]);
  });
  test("another modality between blocks: 'PT and NSAIDs for 6 weeks' gives the NSAIDs the weeks", () => {
    expect(record('PT and NSAIDs for 6 weeks.')).toEqual({ modality: 'NSAIDs', days: 42 });
  });
  test('a termination term between blocks', () => {
    expect(careOf('PT, but pain for 6 weeks.')).toEqual([]);
  });
  test('a sentence end between blocks', () => {
    expect(careOf('Completed PT. Pain for 6 weeks.')).toEqual([]);
  });
});

describe('dates', () => {
  test("'in PT since 10/21/2026' starts a care record on that date", () => {
    expect(record('He has been in PT since 10/21/2026 and still has pain.')).toEqual({ modality: 'PT', date: '2026-10-21' });
  });
  test("'since 10/21/26' (two-digit year)", () => {
    expect(record('In PT since 10/21/26.')).toEqual({ modality: 'PT', date: '2026-10-21' });
  });
  test("'since 2026-09-01' (ISO)", () => {
    expect(record('In PT since 2026-09-01.')).toEqual({ modality: 'PT', date: '2026-09-01' });
  });
  test("'since March 3, 2026' and 'since Sept 3rd' (the latest such day before the note)", () => {
    expect(record('On naproxen since March 3, 2026.')).toEqual({ modality: 'naproxen', date: '2026-03-03' });
    expect(record('Ibuprofen since Sept 3rd with no relief.')).toEqual({ modality: 'Ibuprofen', date: '2026-09-03' });
  });
  test("'since September' is the latest September starting on or before the note's date", () => {
    expect(record('In PT since September.')).toEqual({ modality: 'PT', date: '2026-09-01' });
    expect(record('In PT since December.')).toEqual({ modality: 'PT', date: '2025-12-01' });
  });
  test("'since March 2026' is the first of that month", () => {
    expect(record('Acupuncture since March 2026.')).toEqual({ modality: 'Acupuncture', date: '2026-03-01' });
  });
  test("a month alone needs the note's date: without it there is no record", () => {
    expect(read('In PT since September.', { noteDate: undefined }).care).toEqual([]);
  });
  test("'started PT on 9/15/2026' and 'began physical therapy on 9/15/2026'", () => {
    expect(record('Started PT on 9/15/2026.')).toEqual({ modality: 'PT', date: '2026-09-15' });
    expect(record('Began physical therapy on 9/15/2026.')).toEqual({ modality: 'physical therapy', date: '2026-09-15' });
  });
  test('an impossible date gives no record: 02/30/2026', () => {
    expect(careOf('In PT since 02/30/2026.')).toEqual([]);
  });
});

describe('assertion of care', () => {
  test("'Recommend PT for 6 weeks' is a hypothetical record (not affirming)", () => {
    const c = careOf('Recommend PT for 6 weeks.');
    expect(c.map((x) => x.hypothetical)).toEqual([true]);
    expect(isAffirming(c[0] as CareMention, ['historical'])).toBe(false);
  });
  test("'Has not tried PT for 6 weeks' is negated", () => {
    expect(careOf('Has not tried PT for 6 weeks.').map((x) => x.negated)).toEqual([true]);
  });
  test("'PT for 6 weeks in 2023' under PMH is historical, which care accepts", () => {
    const c = careOf('PMH:\n- PT for 6 weeks, 2023');
    expect(c.map((x) => x.historical)).toEqual([true]);
    expect(isAffirming(c[0] as CareMention, ['historical'])).toBe(true);
  });
  test('the evidence span of a record is its modality phrase, in the original text', () => {
    const text = 'Completed 6 weeks of physical therapy without relief.';
    const c = careOf(text)[0] as CareMention;
    expect(text.slice(c.modality.start, c.modality.end)).toBe('physical therapy');
  });
});
