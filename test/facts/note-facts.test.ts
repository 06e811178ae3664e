import { DCM, ICD, answers, condition, daysAgo, decideFor, fact, lumbarStudy, order, patient, valueOf } from '../support/clinical.js';
import { narrativeReport, note } from '../support/notes.js';
import type { ImagingStudy } from 'fhir/r4.js';

/** Low back pain on the problem list: lumbar symptoms are present. */
const backPain = condition('M54.50', { onset: daysAgo(60) });

describe('red flags written in notes (SPEC §8.4, §8.5)', () => {
  test("'Over the last 2 days he has noticed saddle numbness' makes the ask-only red flag true, with the sentence as evidence", () => {
    const n = note('HPI: 54 yo M. Over the last 2 days he has noticed saddle numbness when sitting.');
    const f = fact('rf.saddle-anesthesia', { resources: [backPain, n] });
    expect(f.value).toBe('true');
    const e = f.evidence[0];
    expect(e?.reference).toBe(`DocumentReference/${n.id ?? ''}`);
    expect(e?.note?.assertion).toBe('affirmed');
    expect(e?.note?.quote).toBe('Over the last 2 days he has noticed saddle numbness when sitting.');
    expect(e?.note?.label).toBe('Progress note');
  });

  test("'Denies saddle anesthesia' in notes read whole makes the ask fact false, the denial its evidence", () => {
    const f = fact('rf.saddle-anesthesia', { resources: [backPain, note('ROS: She denies saddle anesthesia.')] });
    expect(f.value).toBe('false');
    expect(f.negating[0]?.note?.assertion).toBe('negated');
  });

  test('the same denial leaves the fact open when another note could not be read (notes partly read)', () => {
    const pdf = note('', { content: [{ contentType: 'application/pdf', data: Buffer.from('%PDF-1.4').toString('base64') }] });
    const f = fact('rf.saddle-anesthesia', { resources: [backPain, note('ROS: She denies saddle anesthesia.'), pdf] });
    expect(f.value).toBe('unknown');
    expect(f.negating).toEqual([]);
  });

  test("'Rectal tone intact' denies anal sphincter laxity by itself; 'rectal tone is intact' too", () => {
    expect(valueOf('rf.anal-sphincter-laxity', { resources: [note('Exam: Rectal tone intact.')] })).toBe('false');
    expect(valueOf('rf.anal-sphincter-laxity', { resources: [note('Exam: rectal tone is intact.')] })).toBe('false');
  });

  test("'Possible discitis' does not make spinal infection true: infection does not accept a possibility", () => {
    expect(valueOf('rf.infection', { resources: [backPain, note('Assessment: low back pain, possible discitis.')] })).toBe('false');
  });

  test("'concerning for metastatic disease' makes a suspected tumor true: it accepts a possibility", () => {
    expect(valueOf('rf.suspected-tumor', { resources: [backPain, note('Radiograph shows an L2 lesion concerning for metastatic disease.')] })).toBe('true');
  });

  test("a plain 'history of prostate cancer' is cancer history, not a suspected tumor", () => {
    const resources = [backPain, note('PMH: prostate cancer, treated 2019.')];
    expect(valueOf('rf.cancer-history', { resources })).toBe('true');
    expect(valueOf('rf.suspected-tumor', { resources })).toBe('unknown');
  });

  test("'Call if fever or urinary retention develops' is hypothetical: neither fever nor bladder dysfunction", () => {
    const resources = [backPain, note('Call if fever or urinary retention develops.')];
    expect(valueOf('rf.fever', { resources })).toBe('false');
    expect(valueOf('rf.bladder-dysfunction', { resources })).toBe('false');
  });

  test("'Her mother had breast cancer' is another person's cancer", () => {
    expect(valueOf('rf.cancer-history', { resources: [backPain, note('She is anxious because her mother had breast cancer.')] })).toBe('false');
  });

  test('a fever documented 40 days ago is outside the 30-day window; 20 days ago it is inside', () => {
    expect(valueOf('rf.fever', { resources: [note('Fever to 101.8 F for 2 days.', { date: daysAgo(40) })] })).toBe('false');
    expect(valueOf('rf.fever', { resources: [note('Fever to 101.8 F for 2 days.', { date: daysAgo(20) })] })).toBe('true');
  });

  test('an undated note counts only where the window is any date: cancer history yes, fever no', () => {
    const undated = note('Fever. History of lymphoma.', { date: null });
    expect(valueOf('rf.fever', { resources: [undated] })).toBe('false');
    expect(valueOf('rf.cancer-history', { resources: [undated] })).toBe('true');
  });

  test('a note never makes a closed-world fact false: a coded cancer history stands whatever a note denies', () => {
    const resources = [condition('Z85.46', { clinical: 'resolved', onset: daysAgo(900) }), note('No history of cancer.')];
    expect(valueOf('rf.cancer-history', { resources })).toBe('true');
  });

  test("under an active F11 code, intravenous drug use stays unknown whatever a note denies; 'h/o IVDU' makes it true", () => {
    const opioidUse = condition('F11.20');
    expect(valueOf('rf.iv-drug-use', { resources: [opioidUse, note('Denies IV drug use.')] })).toBe('unknown');
    expect(valueOf('rf.iv-drug-use', { resources: [opioidUse, note('Social History:\nh/o IVDU, in recovery.')] })).toBe('true');
  });

  test('a fall in a note and osteopenia in an old note are minor trauma with potential osteoporosis', () => {
    const resources = [backPain, note('She slipped on ice yesterday and landed on her back.'), note('PMH: osteopenia on DXA.', { date: daysAgo(2000) })];
    expect(valueOf('rf.minor-trauma-osteoporosis', { resources, patient: patient('1965-01-01') })).toBe('true');
    expect(valueOf('rf.minor-trauma-osteoporosis', { resources: resources.slice(0, 2), patient: patient('1965-01-01') })).toBe('false');
  });

  test('a clinician\'s answer still overrides what a note says', () => {
    const resources = [backPain, note('Over the last 2 days he has noticed saddle numbness.'), answers({ 'rf.saddle-anesthesia': false })];
    const f = fact('rf.saddle-anesthesia', { resources });
    expect(f.value).toBe('false');
    expect(f.coded).toBe('true');
  });
});

describe('conservative care written in notes (SPEC §8.6)', () => {
  test("'No improvement after 6 weeks of physical therapy' is four weeks of conservative care: meets criteria", () => {
    const det = decideFor({ resources: [backPain, note('HPI: No improvement after 6 weeks of physical therapy.')] });
    expect(det.facts.get('fact.conservative-care-4wk')?.value).toBe('true');
    expect(det.facts.get('fact.conservative-care-4wk')?.detail).toMatch(/^42 days/);
    expect(det.outcome.decision).toBe('meets-criteria');
  });

  test("'back pain for 6 weeks, started ibuprofen 3 days ago' gives no four-week course", () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, note('Low back pain for 6 weeks, started ibuprofen 3 days ago.')] })).toBe('unknown');
  });

  test("'a 3-week course of PT' is too short", () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, note('Completed a 3-week course of PT with partial relief.')] })).toBe('unknown');
  });

  test('care documented in a note after the last lumbar MRI is treatment since imaging', () => {
    const mri: ImagingStudy = lumbarStudy(daysAgo(40));
    const resources = [backPain, mri, note('Since the MRI she did 4 weeks of physical therapy.', { date: daysAgo(3) })];
    expect(valueOf('fact.treatment-since-imaging', { resources })).toBe('true');
  });
});

describe('repeat imaging and reports (SPEC §8.5 windows)', () => {
  const study = (days: number, modality: string): ImagingStudy => ({
    ...lumbarStudy(daysAgo(days), modality),
    modality: [{ system: DCM, code: modality }],
  });

  test("'pain has worsened' in a note after the last MRI is new or worsening symptoms; in a note before it, it is not", () => {
    const mri = study(40, 'MR');
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [backPain, mri, note('Since the MRI his pain has worsened.', { date: daysAgo(5) })] })).toBe('true');
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [backPain, mri, note('His pain has worsened.', { date: daysAgo(50) })] })).toBe('unknown');
  });

  test("'symptoms unchanged' after the MRI, with nothing tried since: the repeat MRI does not meet criteria", () => {
    const det = decideFor({ resources: [backPain, study(40, 'MR'), note('Seen after the MRI: symptoms unchanged. No treatment tried.', { date: daysAgo(5) })] });
    expect(det.facts.get('fact.new-or-worsening-symptoms')?.value).toBe('false');
    expect(det.outcome.decision).toBe('does-not-meet-criteria');
  });

  test("'Indeterminate' in the conclusion of the prior CT's report makes the CT inconclusive", () => {
    const ct = study(119, 'CT');
    const report = { ...narrativeReport({ conclusion: 'Indeterminate 9 mm sclerotic focus in L3.', date: daysAgo(119) }), imagingStudy: [{ reference: `ImagingStudy/${ct.id ?? ''}` }] };
    const f = fact('fact.ct-inconclusive', { resources: [backPain, ct, report] });
    expect(f.value).toBe('true');
    expect(f.evidence.find((e) => e.note)?.note?.span.in).toBe('conclusion');
  });

  test("the same word in a progress note is not read for the CT: 'cannot be excluded' is a possibility trigger there", () => {
    const ct = study(119, 'CT');
    const resources = [backPain, ct, note('Indeterminate history. Discitis cannot be excluded.')];
    expect(valueOf('fact.ct-inconclusive', { resources })).toBe('unknown');
    expect(valueOf('rf.infection', { resources })).toBe('false');
  });
});

describe('the card and the determination cite notes', () => {
  test('the determination lists the note with its assertion and the span of the matched phrase', () => {
    const n = note('HPI: Over the last 2 days he has noticed saddle numbness.');
    const det = decideFor({ resources: [backPain, n] });
    const e = det.evidence.find((x) => x.fact === 'rf.saddle-anesthesia');
    expect(e).toMatchObject({ reference: `DocumentReference/${n.id ?? ''}`, assertion: 'affirmed', span: { in: 'content[0]' } });
    const text = Buffer.from(n.content[0]?.attachment.data ?? '', 'base64').toString('utf8');
    expect(text.slice(e?.span?.start, e?.span?.end)).toBe('saddle numbness');
  });

  test("coded evidence and note evidence are listed together: the order's reason and the note's 'low back pain'", () => {
    const det = decideFor({ order: order('72148', { reasonCode: [{ coding: [{ system: ICD, code: 'M54.50' }] }] }), resources: [note('Low back pain for two months.')] });
    const sources = det.evidence.filter((x) => x.fact === 'fact.back-symptoms');
    expect(sources.filter((x) => x.assertion === undefined).map((x) => x.reference)).toEqual([expect.stringMatching(/^ServiceRequest\//)]);
    expect(sources.filter((x) => x.assertion === 'affirmed')).toHaveLength(1);
  });
});
