import { SCT, LOINC, condition, dayAgo, daysAgo, patient, quantity, temperature, valueOf, weight } from '../support/clinical.js';
import type { Observation } from 'fhir/r4.js';

describe('fever (rf.fever)', () => {
  test('a temperature of 38.9 °C five days ago is a fever', () => {
    expect(valueOf('rf.fever', { resources: [temperature(38.9, daysAgo(5))] })).toBe('true');
  });
  test('a temperature of exactly 38.0 °C is a fever', () => {
    expect(valueOf('rf.fever', { resources: [temperature(38.0, daysAgo(2))] })).toBe('true');
  });
  test('a temperature of 37.9 °C is not a fever', () => {
    expect(valueOf('rf.fever', { resources: [temperature(37.9, daysAgo(2))] })).toBe('false');
  });
  test('101.5 °F recorded in Fahrenheit is a fever', () => {
    expect(valueOf('rf.fever', { resources: [quantity('8310-5', 101.5, '[degF]', daysAgo(3))] })).toBe('true');
  });
  test('100.3 °F is not a fever', () => {
    expect(valueOf('rf.fever', { resources: [quantity('8310-5', 100.3, '[degF]', daysAgo(3))] })).toBe('false');
  });
  test('a temperature in kelvin is ignored', () => {
    expect(valueOf('rf.fever', { resources: [quantity('8310-5', 312, 'K', daysAgo(3))] })).toBe('false');
  });
  test('a fever 31 days ago is too old', () => {
    expect(valueOf('rf.fever', { resources: [temperature(39.5, daysAgo(31))] })).toBe('false');
  });
  test('a fever recorded on the calendar day 30 days ago still counts', () => {
    const onTheDay: Observation = { ...temperature(39.5, ''), effectiveDateTime: dayAgo(30) };
    expect(valueOf('rf.fever', { resources: [onTheDay] })).toBe('true');
  });
  test('a fever measured by a core temperature code (8331-1 oral) counts', () => {
    expect(valueOf('rf.fever', { resources: [quantity('8331-1', 38.4, 'Cel', daysAgo(1))] })).toBe('true');
  });
  test('a fever entered in error does not count', () => {
    expect(valueOf('rf.fever', { resources: [temperature(39.5, daysAgo(1), 'entered-in-error')] })).toBe('false');
  });
  test('a cancelled temperature does not count', () => {
    expect(valueOf('rf.fever', { resources: [temperature(39.5, daysAgo(1), 'cancelled')] })).toBe('false');
  });
  test('a preliminary temperature counts', () => {
    expect(valueOf('rf.fever', { resources: [temperature(39.5, daysAgo(1), 'preliminary')] })).toBe('true');
  });
  test('a fever diagnosis R50.9 ten days ago is a fever', () => {
    expect(valueOf('rf.fever', { resources: [condition('R50.9', { onset: daysAgo(10), clinical: 'resolved' })] })).toBe('true');
  });
  test('a temperature dated only by issued is dated by issued', () => {
    const o: Observation = { ...temperature(39, daysAgo(1)) };
    delete o.effectiveDateTime;
    o.issued = daysAgo(2);
    expect(valueOf('rf.fever', { resources: [o] })).toBe('true');
  });
  test('a temperature without any date is never inside the window', () => {
    const o: Observation = { ...temperature(39, daysAgo(1)) };
    delete o.effectiveDateTime;
    expect(valueOf('rf.fever', { resources: [o] })).toBe('false');
  });
});

describe('history of cancer (rf.cancer-history)', () => {
  test('a resolved history of prostate cancer Z85.46 is a history of cancer', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('Z85.46', { clinical: 'resolved', onset: daysAgo(1500) })] })).toBe('true');
  });
  test('a cancer diagnosis entered in error does not count', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('C61', { verification: 'entered-in-error' })] })).toBe('false');
  });
  test('a refuted cancer diagnosis does not count', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('C61', { verification: 'refuted' })] })).toBe('false');
  });
  test('a basal cell carcinoma of the skin C44.91 is not a history of cancer', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('C44.91')] })).toBe('false');
  });
  test('history of other skin cancer Z85.828 is excluded but melanoma history Z85.820 counts', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('Z85.828')] })).toBe('false');
    expect(valueOf('rf.cancer-history', { resources: [condition('Z85.820')] })).toBe('true');
  });
  test('a provisional lung cancer is a suspected tumor, not a history of cancer', () => {
    const resources = [condition('C34.90', { verification: 'provisional' })];
    expect(valueOf('rf.cancer-history', { resources })).toBe('false');
    expect(valueOf('rf.suspected-tumor', { resources })).toBe('true');
  });
  test('a cancer without verification status counts', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('C50.911', { verification: null })] })).toBe('true');
  });
  test('malignant neoplastic disease coded in SNOMED counts', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('363346000', {}, SCT)] })).toBe('true');
  });
  test('a code sent without its dot, C6190, is read as C61.90', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition('C6190')] })).toBe('true');
  });
  test('a code in lower case with spaces is still read', () => {
    expect(valueOf('rf.cancer-history', { resources: [condition(' z85.46 ')] })).toBe('true');
  });
});

describe('suspected tumor (rf.suspected-tumor)', () => {
  test('with nothing coded it must be asked', () => {
    expect(valueOf('rf.suspected-tumor')).toBe('unknown');
  });
  test('an active neoplasm of uncertain behaviour of the spinal cord D43.4 is a suspected tumor', () => {
    expect(valueOf('rf.suspected-tumor', { resources: [condition('D43.4')] })).toBe('true');
  });
  test('abnormal imaging findings R93.7 make a tumor suspected', () => {
    expect(valueOf('rf.suspected-tumor', { resources: [condition('R93.7')] })).toBe('true');
  });
  test('a differential diagnosis of a D49.2 neoplasm counts', () => {
    expect(valueOf('rf.suspected-tumor', { resources: [condition('D49.2', { verification: 'differential' })] })).toBe('true');
  });
  test('a resolved provisional neoplasm no longer counts', () => {
    expect(valueOf('rf.suspected-tumor', { resources: [condition('C79.51', { verification: 'provisional', clinical: 'resolved' })] })).toBe('unknown');
  });
});

describe('conditions that need an active diagnosis', () => {
  test.each([
    ['rf.infection', 'M46.26', 'vertebral osteomyelitis of the lumbar spine'],
    ['rf.infection', 'G06.1', 'an intraspinal abscess'],
    ['rf.herniated-disc-nerve-compression', 'M51.16', 'a lumbar disc disorder with radiculopathy'],
    ['rf.major-neuro-problem', 'G83.4', 'cauda equina syndrome'],
    ['rf.progressive-neuro-deficit', 'M21.371', 'foot drop'],
    ['rf.motor-weakness', 'M62.81', 'muscle weakness'],
    ['rf.nerve-root-compromise', 'M54.16', 'lumbar radiculopathy'],
    ['rf.nerve-root-compromise', 'G55', 'nerve root compression in diseases classified elsewhere'],
  ])('an active %s code %s (%s) makes it true', (id, code) => {
    expect(valueOf(id, { resources: [condition(code)] })).toBe('true');
  });
  test('a resolved cauda equina syndrome is not a current major neurological problem', () => {
    expect(valueOf('rf.major-neuro-problem', { resources: [condition('G83.4', { clinical: 'resolved' })] })).toBe('false');
  });
  test('a relapse of osteomyelitis is active', () => {
    expect(valueOf('rf.infection', { resources: [condition('M46.26', { clinical: 'relapse' })] })).toBe('true');
  });
  test('a clinical status given only as text, without a code, reads as absent: active', () => {
    const c = { ...condition('M46.26'), clinicalStatus: { text: 'see notes' } };
    expect(valueOf('rf.infection', { resources: [c] })).toBe('true');
  });
  test('a diagnosis without clinical status is active', () => {
    expect(valueOf('rf.infection', { resources: [condition('M46.26', { clinical: null })] })).toBe('true');
  });
  test('low back pain M54.50 is not a red flag by itself', () => {
    const resources = [condition('M54.50')];
    for (const id of ['rf.infection', 'rf.nerve-root-compromise', 'rf.herniated-disc-nerve-compression']) {
      expect(valueOf(id, { resources })).toBe('false');
    }
  });
  test('sciatica M54.3x is not nerve root compromise', () => {
    expect(valueOf('rf.nerve-root-compromise', { resources: [condition('M54.31')] })).toBe('false');
  });
});

describe('trauma', () => {
  test('a lumbar vertebral fracture S32.009A three weeks ago is major trauma', () => {
    expect(valueOf('rf.major-trauma', { resources: [condition('S32.009A', { onset: daysAgo(21), clinical: 'resolved' })] })).toBe('true');
  });
  test('a pelvic fracture S32.811A is inside the range S32.0–S32.8', () => {
    expect(valueOf('rf.major-trauma', { resources: [condition('S32.811A', { onset: daysAgo(10) })] })).toBe('true');
  });
  test('an unspecified pelvic fracture S32.9 lies outside the range S32.0–S32.8', () => {
    expect(valueOf('rf.major-trauma', { resources: [condition('S32.9XXA', { onset: daysAgo(10) })] })).toBe('false');
  });
  test('a lumbar fracture 100 days ago is no longer recent major trauma', () => {
    expect(valueOf('rf.major-trauma', { resources: [condition('S32.009A', { onset: daysAgo(100) })] })).toBe('false');
  });
  test('a fall from the same level last month in a 75-year-old is minor trauma with potential osteoporosis', () => {
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient('1951-01-01'), resources: [condition('W01.0XXA', { onset: daysAgo(30) })] })).toBe('true');
  });
  test('the same fall in a 50-year-old without osteoporosis is not a red flag', () => {
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient('1976-01-01'), resources: [condition('W01.0XXA', { onset: daysAgo(30) })] })).toBe('false');
  });
  test('a lumbar sprain in a 50-year-old with osteoporosis M81.0 is a red flag', () => {
    const resources = [condition('S33.5XXA', { onset: daysAgo(5) }), condition('M81.0', { clinical: 'inactive' })];
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient('1976-01-01'), resources })).toBe('true');
  });
  test('a DXA T-score of -2.7 makes osteoporosis potential', () => {
    const resources = [condition('S39.012A', { onset: daysAgo(5) }), quantity('38267-1', -2.7, '{T-score}', daysAgo(400))];
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient('1976-01-01'), resources })).toBe('true');
  });
  test('a DXA T-score of -1.5 does not', () => {
    const resources = [condition('S39.012A', { onset: daysAgo(5) }), quantity('38267-1', -1.5, '{T-score}', daysAgo(400))];
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient('1976-01-01'), resources })).toBe('false');
  });
  test('a patient who turns 70 tomorrow is not yet 70', () => {
    const birth = new Date(Date.parse('2026-11-24T00:00:00Z'));
    birth.setUTCFullYear(1956);
    const resources = [condition('W19.XXXA', { onset: daysAgo(5) })];
    expect(valueOf('rf.minor-trauma-osteoporosis', { patient: patient(birth.toISOString().slice(0, 10)), resources })).toBe('false');
  });
});

describe('other dated red flags', () => {
  test('chills R68.83 last week is a red flag', () => {
    expect(valueOf('rf.chills', { resources: [condition('R68.83', { onset: daysAgo(7) })] })).toBe('true');
  });
  test('a urinary tract infection N39.0 two months ago is a recent bacterial infection', () => {
    expect(valueOf('rf.recent-bacterial-infection', { resources: [condition('N39.0', { onset: daysAgo(60), clinical: 'resolved' })] })).toBe('true');
  });
  test('pneumococcal pneumonia J13 four months ago is not recent', () => {
    expect(valueOf('rf.recent-bacterial-infection', { resources: [condition('J13', { onset: daysAgo(120) })] })).toBe('false');
  });
  test('urinary retention R33.9 a month ago is recent bladder dysfunction', () => {
    expect(valueOf('rf.bladder-dysfunction', { resources: [condition('R33.9', { onset: daysAgo(30) })] })).toBe('true');
  });
  test('neurogenic bladder N31.9 a year ago is not recent and is false, not unknown', () => {
    expect(valueOf('rf.bladder-dysfunction', { resources: [condition('N31.9', { onset: daysAgo(365) })] })).toBe('false');
  });
  test('urge incontinence N39.41 falls within N39.41–N39.49', () => {
    expect(valueOf('rf.bladder-dysfunction', { resources: [condition('N39.41', { onset: daysAgo(10) })] })).toBe('true');
  });
});

describe('unexplained weight loss (rf.weight-loss)', () => {
  test('weights of 80 kg then 75 kg within six months are a 6 % loss', () => {
    expect(valueOf('rf.weight-loss', { resources: [weight(80, daysAgo(150)), weight(75, daysAgo(10))] })).toBe('true');
  });
  test('weights of 80 kg then 77 kg are only a 3.75 % loss', () => {
    expect(valueOf('rf.weight-loss', { resources: [weight(80, daysAgo(150)), weight(77, daysAgo(10))] })).toBe('false');
  });
  test('a gain from 75 kg to 80 kg is not a loss', () => {
    expect(valueOf('rf.weight-loss', { resources: [weight(75, daysAgo(150)), weight(80, daysAgo(10))] })).toBe('false');
  });
  test('a weight in pounds is converted: 180 lb then 75 kg is a loss', () => {
    expect(valueOf('rf.weight-loss', { resources: [quantity('29463-7', 180, '[lb_av]', daysAgo(100)), weight(75, daysAgo(10))] })).toBe('true');
  });
  test('the loss does not count after bariatric surgery Z98.84', () => {
    expect(valueOf('rf.weight-loss', { resources: [weight(100, daysAgo(150)), weight(85, daysAgo(10)), condition('Z98.84')] })).toBe('false');
  });
  test('a cachexia diagnosis R64 counts', () => {
    expect(valueOf('rf.weight-loss', { resources: [condition('R64', { onset: daysAgo(20) })] })).toBe('true');
  });
  test('an earlier weight outside 180 days is not compared', () => {
    expect(valueOf('rf.weight-loss', { resources: [weight(90, daysAgo(200)), weight(80, daysAgo(10))] })).toBe('false');
  });
});

describe('intravenous drug use (rf.iv-drug-use)', () => {
  test('an active intravenous drug user diagnosis is a red flag', () => {
    expect(valueOf('rf.iv-drug-use', { resources: [condition('228388006', {}, SCT)] })).toBe('true');
  });
  test('a social history answer coded intravenous drug user is a red flag', () => {
    const obs: Observation = {
      resourceType: 'Observation',
      id: 'social-1',
      status: 'final',
      subject: { reference: 'Patient/pat' },
      code: { coding: [{ system: LOINC, code: '11343-1' }] },
      valueCodeableConcept: { coding: [{ system: SCT, code: '228388006' }] },
    };
    expect(valueOf('rf.iv-drug-use', { resources: [obs] })).toBe('true');
  });
  test('opioid dependence F11.20 without a coded route makes it unknown, not false', () => {
    expect(valueOf('rf.iv-drug-use', { resources: [condition('F11.20')] })).toBe('unknown');
  });
  test('with nothing coded it is false', () => {
    expect(valueOf('rf.iv-drug-use')).toBe('false');
  });
});

describe('immune suppression (rf.immunosuppression)', () => {
  test('long-term systemic steroids Z79.52 are immune suppression', () => {
    expect(valueOf('rf.immunosuppression', { resources: [condition('Z79.52')] })).toBe('true');
  });
  test('a kidney transplant Z94.0 in any clinical status is immune suppression', () => {
    expect(valueOf('rf.immunosuppression', { resources: [condition('Z94.0', { clinical: 'inactive' })] })).toBe('true');
  });
  test('HIV disease B20 counts', () => {
    expect(valueOf('rf.immunosuppression', { resources: [condition('B20')] })).toBe('true');
  });
});

describe('red flags that can only be asked', () => {
  test.each(['rf.night-pain-supine', 'rf.saddle-anesthesia', 'rf.anal-sphincter-laxity', 'rf.perianal-sensory-loss'])('%s is unknown until answered', (id) => {
    expect(valueOf(id, { resources: [condition('M54.50')] })).toBe('unknown');
  });
});
