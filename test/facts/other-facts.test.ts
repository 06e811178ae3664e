import type { QuestionnaireResponse } from 'fhir/r4.js';
import { CPT, SCT, answers, condition, dayAgo, daysAgo, fact, lumbarStudy, medication, order, procedure, report, valueOf } from '../support/clinical.js';

const backPain = condition('M54.50', { onset: daysAgo(90) });

describe('lumbar symptoms (fact.back-symptoms)', () => {
  test('active low back pain M54.50 is a lumbar symptom', () => {
    expect(valueOf('fact.back-symptoms', { resources: [backPain] })).toBe('true');
  });
  test('low back pain given only as the reason for the order is a lumbar symptom', () => {
    const o = order('72148', { reasonCode: [{ coding: [{ system: SCT, code: '279039007' }] }] });
    expect(valueOf('fact.back-symptoms', { order: o })).toBe('true');
  });
  test('resolved low back pain is not a present symptom', () => {
    expect(valueOf('fact.back-symptoms', { resources: [condition('M54.50', { clinical: 'resolved' })] })).toBe('false');
  });
  test('cervicalgia M54.2 lies in the range M54.1–M54.9', () => {
    expect(valueOf('fact.back-symptoms', { resources: [condition('M54.2')] })).toBe('true');
  });
});

describe('four weeks of conservative care (fact.conservative-care-4wk)', () => {
  test('low back pain with six weeks of physical therapy is four weeks of conservative care', () => {
    const pt = procedure('97110', { start: daysAgo(50), end: daysAgo(8) });
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, pt] })).toBe('true');
  });
  test('ten days of physical therapy must be asked about, and the card shows the ten days', () => {
    const pt = procedure('97110', { start: daysAgo(20), end: daysAgo(10) });
    const f = fact('fact.conservative-care-4wk', { resources: [backPain, pt] });
    expect(f.value).toBe('unknown');
    expect(f.detail).toContain('10 days, from');
  });
  test('exactly 28 days of therapy is enough', () => {
    const pt = procedure('97110', { start: dayAgo(40), end: dayAgo(12) });
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, pt] })).toBe('true');
  });
  test('two single therapy visits 30 days apart span 30 days (gaps are not subtracted)', () => {
    const resources = [backPain, procedure('97140', daysAgo(40)), procedure('97140', daysAgo(10))];
    expect(valueOf('fact.conservative-care-4wk', { resources })).toBe('true');
  });
  test('five weeks of an active naproxen prescription is four weeks of conservative care', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, medication('7258', 'naproxen', daysAgo(35))] })).toBe('true');
  });
  test('a naproxen 500 mg tablet product code is recognised by its ingredient name', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, medication('198013', 'Naproxen 500 MG Oral Tablet', daysAgo(35))] })).toBe('true');
  });
  test('a completed 30-day supply of cyclobenzaprine counts for 30 days', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, medication('21949', 'cyclobenzaprine', daysAgo(60), 'completed', 30)] })).toBe('true');
  });
  test('a completed prescription without a supply lasts one day', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, medication('21949', 'cyclobenzaprine', daysAgo(60), 'completed')] })).toBe('unknown');
  });
  test('a stopped prescription does not count', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, medication('7258', 'naproxen', daysAgo(60), 'stopped')] })).toBe('unknown');
  });
  test('therapy that ended more than 180 days ago is ignored', () => {
    const pt = procedure('97110', { start: daysAgo(300), end: daysAgo(200) });
    expect(fact('fact.conservative-care-4wk', { resources: [backPain, pt] }).detail).toContain('none in the last 180 days');
  });
  test('therapy that started 200 days ago and ended 170 days ago counts only from day 180: ten days', () => {
    const pt = procedure('97110', { start: daysAgo(200), end: daysAgo(170) });
    const f = fact('fact.conservative-care-4wk', { resources: [backPain, pt] });
    expect(f.value).toBe('unknown');
    expect(f.detail).toContain('10 days, from');
  });
  test('therapy still in progress without an end runs until now', () => {
    const pt = procedure('97110', { start: daysAgo(30) }, 'in-progress');
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, pt] })).toBe('true');
  });
  test('therapy that was not done does not count', () => {
    const pt = procedure('97110', { start: daysAgo(50), end: daysAgo(8) }, 'not-done');
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, pt] })).toBe('unknown');
  });
  test('chiropractic manipulation 98941 and acupuncture 97813 are conservative care', () => {
    const resources = [backPain, procedure('98941', daysAgo(40)), procedure('97813', daysAgo(5))];
    expect(valueOf('fact.conservative-care-4wk', { resources })).toBe('true');
  });
  test('six weeks of therapy without lumbar symptoms must still be asked', () => {
    const pt = procedure('97110', { start: daysAgo(50), end: daysAgo(8) });
    expect(valueOf('fact.conservative-care-4wk', { resources: [pt] })).toBe('unknown');
  });
});

describe('surgery or intervention under consideration (fact.surgery-considered)', () => {
  test('an epidural injection 64483 ordered together with the MRI is under consideration', () => {
    expect(valueOf('fact.surgery-considered', { otherOrders: [order('64483')] })).toBe('true');
  });
  test('a referral to an orthopaedic spine surgeon is under consideration', () => {
    const referral = order('306181000000106', {
      code: { coding: [{ system: SCT, code: '306181000000106' }] },
      performerType: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '207XS0117X' }] },
      status: 'active',
    });
    expect(valueOf('fact.surgery-considered', { resources: [referral] })).toBe('true');
  });
  test('a lumbar laminectomy 63030 in preparation is under consideration', () => {
    expect(valueOf('fact.surgery-considered', { resources: [procedure('63030', daysAgo(0), 'preparation')] })).toBe('true');
  });
  test('a completed injection order is not a plan', () => {
    expect(valueOf('fact.surgery-considered', { resources: [order('64483', { status: 'completed' })] })).toBe('unknown');
  });
  test('with nothing planned it must be asked', () => {
    expect(valueOf('fact.surgery-considered')).toBe('unknown');
  });
});

describe('recent advanced imaging (fact.recent-advanced-imaging)', () => {
  test('a lumbar MRI 40 days ago is recent advanced imaging', () => {
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy(daysAgo(40))] })).toBe('true');
  });
  test('a lumbar MRI 200 days ago is not', () => {
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy(daysAgo(200))] })).toBe('false');
  });
  test('three calendar months: a study on 23 August counts on 23 November, one on 22 August does not', () => {
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy('2026-08-23')] })).toBe('true');
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy('2026-08-22')] })).toBe('false');
  });
  test('a cancelled lumbar MRI does not count', () => {
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy(daysAgo(20), 'MR', 'cancelled')] })).toBe('false');
  });
  test('a lumbar x-ray is not advanced imaging', () => {
    expect(valueOf('fact.recent-advanced-imaging', { resources: [lumbarStudy(daysAgo(20), 'DX')] })).toBe('false');
  });
  test('a CT identified only by its procedure code 72131 counts', () => {
    const ct = { ...lumbarStudy(daysAgo(20), 'CT'), series: [], procedureCode: [{ coding: [{ system: CPT, code: '72131' }] }] };
    expect(valueOf('fact.recent-advanced-imaging', { resources: [ct] })).toBe('true');
  });
});

describe('treatment and new symptoms since the last study', () => {
  test('physical therapy that started after the MRI is treatment since imaging', () => {
    const resources = [lumbarStudy(daysAgo(40)), procedure('97110', { start: daysAgo(30), end: daysAgo(5) })];
    expect(valueOf('fact.treatment-since-imaging', { resources })).toBe('true');
  });
  test('therapy that ended before the MRI is not treatment since imaging', () => {
    const resources = [lumbarStudy(daysAgo(40)), procedure('97110', { start: daysAgo(100), end: daysAgo(60) })];
    expect(valueOf('fact.treatment-since-imaging', { resources })).toBe('false');
  });
  test('an epidural injection after the MRI is treatment since imaging', () => {
    expect(valueOf('fact.treatment-since-imaging', { resources: [lumbarStudy(daysAgo(40)), procedure('62323', daysAgo(20))] })).toBe('true');
  });
  test('radiculopathy diagnosed after the MRI is a new symptom', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('M54.16', { onset: daysAgo(10) })] })).toBe('true');
  });
  test('a radiculopathy after the MRI that has already resolved is not a new symptom now: it must be asked', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('M54.16', { onset: daysAgo(10), clinical: 'resolved' })] })).toBe('unknown');
  });
  test('back pain diagnosed before the MRI is not new since it: it must be asked', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), backPain] })).toBe('unknown');
  });
  test('a recurrence of back pain is a worsening symptom', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('M54.50', { clinical: 'recurrence', onset: daysAgo(90) })] })).toBe('true');
  });
  test('a diagnosis dated the same calendar day as the study is not after it', () => {
    const study = lumbarStudy(`${dayAgo(40)}T15:00:00Z`);
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [study, condition('M54.16', { onset: dayAgo(40) })] })).toBe('unknown');
  });
  test.each(['F11.20', 'F14.10', 'F15.90', 'F19.20'])('a drug use disorder %s diagnosed after the MRI is not a new symptom: it only makes IV drug use unknown (SPEC §4)', (code) => {
    const resources = [lumbarStudy(daysAgo(40)), condition(code, { onset: daysAgo(10) })];
    expect(valueOf('fact.new-or-worsening-symptoms', { resources })).toBe('unknown');
    expect(valueOf('rf.iv-drug-use', { resources })).toBe('unknown');
  });
  test('intravenous drug use (SNOMED 228388006) recorded after the MRI is a new red-flag finding', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('228388006', { onset: daysAgo(10) }, SCT)] })).toBe('true');
  });
  test('a fall from the same level W01 after the MRI counts (the minor-injury codes are §3 evidence)', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('W01.0XXA', { onset: daysAgo(10) })] })).toBe('true');
  });
  test('osteoporosis M81.0 diagnosed after the MRI counts (the osteoporosis codes are §3 evidence)', () => {
    expect(valueOf('fact.new-or-worsening-symptoms', { resources: [lumbarStudy(daysAgo(40)), condition('M81.0', { onset: daysAgo(10) })] })).toBe('true');
  });
});

describe('CT findings', () => {
  test('with no lumbar CT in 180 days, inconclusive CT findings are false', () => {
    expect(valueOf('fact.ct-inconclusive')).toBe('false');
  });
  test('a lumbar CT 30 days ago with a report concluding R93.7 is an inconclusive CT', () => {
    const ct = lumbarStudy(daysAgo(30), 'CT');
    expect(valueOf('fact.ct-inconclusive', { resources: [ct, report('R93.7', daysAgo(29), ct)] })).toBe('true');
  });
  test('a lumbar CT 30 days ago without an inconclusive report must be asked', () => {
    expect(valueOf('fact.ct-inconclusive', { resources: [lumbarStudy(daysAgo(30), 'CT')] })).toBe('unknown');
  });
  test('an R93.7 report after the last MRI is a prior indeterminate finding', () => {
    expect(valueOf('fact.indeterminate-prior-finding', { resources: [lumbarStudy(daysAgo(30)), report('R93.7', daysAgo(29))] })).toBe('true');
  });
});

describe('disc disease and purposes', () => {
  test('lumbar degenerative disc disease M51.36 is uncomplicated disc disease', () => {
    expect(valueOf('fact.uncomplicated-ddd', { resources: [condition('M51.36')] })).toBe('true');
  });
  test('its six-character child M51.369 counts too', () => {
    expect(valueOf('fact.uncomplicated-ddd', { resources: [condition('M51.369')] })).toBe('true');
  });
  test('a lumbar disc herniation M51.26 is a herniated nucleus pulposus', () => {
    expect(valueOf('fact.hnp', { resources: [condition('M51.26')] })).toBe('true');
  });
  test('MR spectroscopy 76390 is for spectroscopy', () => {
    expect(valueOf('fact.purpose-spectroscopy', { order: order('76390') })).toBe('true');
  });
  test('MR angiography 72159 measures blood flow', () => {
    expect(valueOf('fact.purpose-blood-flow', { order: order('72159') })).toBe('true');
  });
  test('bone imaging purposes are false unless answered', () => {
    expect(valueOf('fact.purpose-bone-calcification')).toBe('false');
    expect(valueOf('fact.purpose-bone-calcification', { resources: [answers({ 'fact.purpose-bone-calcification': true })] })).toBe('true');
  });
});

describe("the clinician's answers (SPEC §2)", () => {
  test('an answer of yes to saddle anesthesia makes it true, with the answer as evidence', () => {
    const qr = answers({ 'rf.saddle-anesthesia': true });
    const f = fact('rf.saddle-anesthesia', { resources: [qr] });
    expect(f.value).toBe('true');
    expect(f.answer?.reference).toBe(`QuestionnaireResponse/${qr.id ?? ''}`);
  });
  test('an answer overrides coded evidence, and the coded value is kept', () => {
    const f = fact('rf.fever', { resources: [condition('R50.9', { onset: daysAgo(3) }), answers({ 'rf.fever': false })] });
    expect(f.value).toBe('false');
    expect(f.coded).toBe('true');
  });
  test('the most recently authored answer wins', () => {
    const resources = [answers({ 'rf.saddle-anesthesia': true }, daysAgo(10)), answers({ 'rf.saddle-anesthesia': false }, daysAgo(2))];
    expect(valueOf('rf.saddle-anesthesia', { resources })).toBe('false');
  });
  test('an answer authored 91 days ago is too old', () => {
    expect(valueOf('rf.saddle-anesthesia', { resources: [answers({ 'rf.saddle-anesthesia': true }, daysAgo(91))] })).toBe('unknown');
  });
  test('answers to another questionnaire do not count', () => {
    expect(valueOf('rf.saddle-anesthesia', { resources: [answers({ 'rf.saddle-anesthesia': true }, daysAgo(1), 'http://example.org/Questionnaire/other')] })).toBe('unknown');
  });
  test('an in-progress response does not count', () => {
    const inProgress: QuestionnaireResponse = { ...answers({ 'rf.saddle-anesthesia': true }), status: 'in-progress' };
    expect(valueOf('rf.saddle-anesthesia', { resources: [inProgress] })).toBe('unknown');
  });
  test('an answer nested inside a group counts', () => {
    const qr = answers({});
    qr.item = [{ linkId: 'red-flags', item: [{ linkId: 'rf.saddle-anesthesia', answer: [{ valueBoolean: true }] }] }];
    expect(valueOf('rf.saddle-anesthesia', { resources: [qr] })).toBe('true');
  });
});

describe('a policy whose facts read each other in a circle', () => {
  test('is refused with the fact named, instead of recursing until the stack runs out', async () => {
    const { loadPolicy } = await import('../../src/policy/load-policy.js');
    const { extractFacts, FactDefinitionError } = await import('../../src/facts/extract-facts.js');
    const { RecordIndex } = await import('../../src/facts/record-index.js');
    const { recordOf } = await import('../support/record.js');
    const { patient } = await import('../support/clinical.js');
    const loaded = loadPolicy();
    const [first, second, ...rest] = loaded.policy.facts;
    if (!first || !second) {
      throw new Error('the policy has fewer than two facts');
    }
    // Each of the two facts is true only if the other is.
    const circular = {
      ...loaded.policy,
      facts: [
        { ...first, evidence: { kind: 'fact' as const, fact: second.id } },
        { ...second, evidence: { kind: 'fact' as const, fact: first.id } },
        ...rest,
      ],
    };
    const record = recordOf(patient(), []);
    const o = order();
    const run = (): unknown => extractFacts({ policy: circular, valueSets: loaded.valueSets, lexicon: loaded.lexicon, index: new RecordIndex(record), order: o, draftOrders: [o], now: Date.now() });
    expect(run).toThrow(FactDefinitionError);
    const message = ((): string => {
      try {
        run();
        return '';
      } catch (error) {
        return error instanceof Error ? error.message : '';
      }
    })();
    expect([`${first.id}: fact definitions refer to each other in a cycle`, `${second.id}: fact definitions refer to each other in a cycle`]).toContain(message);
  });
});
