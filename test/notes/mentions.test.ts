// SPEC §8.2 mentions and §8.5 phrase sets: how phrases are found in text.
import { isAffirming, isNegating } from '../../src/notes/index.js';
import { flags, mentionOf, mentionsOf, read, spanText } from './reader.js';

describe('matching words', () => {
  test('phrases match case-insensitively, on word boundaries', () => {
    expect(spanText(read('SADDLE NUMBNESS'), mentionOf('SADDLE NUMBNESS', 'rf.saddle-anesthesia'))).toBe('SADDLE NUMBNESS');
    expect(mentionsOf('saddlenumbness', 'rf.saddle-anesthesia')).toEqual([]);
    expect(mentionsOf('unfevered', 'rf.fever')).toEqual([]);
  });
  test.each([
    ['saddle-numbness', 'hyphen'],
    ['saddle/numbness', 'slash'],
    ['saddle \n  numbness', 'line break and spaces'],
    ['saddle\tnumbness', 'tab'],
  ])("'%s' matches 'saddle numbness' (%s between the words)", (text) => {
    const m = mentionOf(text, 'rf.saddle-anesthesia');
    expect(spanText(read(text), m)).toBe(text);
  });
  test("'bowel or bladder incontinence' written 'bowel/bladder incontinence' still matches", () => {
    expect(mentionOf('denies bowel/bladder incontinence', 'rf.bladder-dysfunction').phrase).toBe('bowel/bladder incontinence');
  });
  test("other punctuation between words does not match a space: 'saddle, numbness'", () => {
    expect(mentionsOf('saddle, numbness', 'rf.saddle-anesthesia')).toEqual([]);
  });
  test("a plural s or es on the last word matches: 'fevers', 'epidural abscesses', 'UTIs'", () => {
    expect(spanText(read('recurrent fevers'), mentionOf('recurrent fevers', 'rf.fever'))).toBe('fevers');
    expect(spanText(read('two epidural abscesses'), mentionOf('two epidural abscesses', 'rf.infection'))).toBe('epidural abscesses');
    expect(spanText(read('recurrent UTIs'), mentionOf('recurrent UTIs', 'rf.recent-bacterial-infection'))).toBe('UTIs');
  });
  test('a plural is accepted only on the last word', () => {
    expect(mentionsOf('saddles numbness', 'rf.saddle-anesthesia')).toEqual([]);
  });
  test("'pt' in lower case is the patient, not physical therapy", () => {
    expect(read('Per pt, she has been off work for 6 weeks.').care).toEqual([]);
    expect(read('PT for 6 weeks.').care).toHaveLength(1);
  });
  test('abbreviations written in capitals match only in capitals: HIV, ESI, LBP, MVA, IVDU', () => {
    expect(mentionsOf('HIV on ART', 'rf.immunosuppression')).toHaveLength(1);
    expect(mentionsOf('hiv on art', 'rf.immunosuppression')).toHaveLength(0);
    expect(mentionsOf('plan ESI', 'fact.surgery-considered')).toHaveLength(1);
    expect(mentionsOf('plan esi', 'fact.surgery-considered')).toHaveLength(0);
    expect(mentionsOf('LBP x 3 weeks', 'fact.back-symptoms')).toHaveLength(1);
    expect(mentionsOf('lbp x 3 weeks', 'fact.back-symptoms')).toHaveLength(0);
    expect(mentionsOf('MVA last week', 'rf.major-trauma')).toHaveLength(1);
    expect(mentionsOf('Mva last week', 'rf.major-trauma')).toHaveLength(0);
    expect(mentionsOf('h/o ivdu', 'rf.iv-drug-use')).toHaveLength(0);
  });
  test("a capitals abbreviation takes a plural in either case: 'ESIs', 'NSAIDS'", () => {
    expect(mentionsOf('two prior ESIs', 'fact.surgery-considered')).toHaveLength(1);
    expect(read('NSAIDS for 6 weeks').care.map((c) => c.modality.phrase)).toEqual(['NSAIDs']);
  });
});

describe('longest match, overlapping sets, not-counted phrases', () => {
  test("'basal cell carcinoma' counts for nothing and hides 'carcinoma'", () => {
    expect(mentionsOf('History of basal cell carcinoma of the nose.', 'rf.cancer-history')).toEqual([]);
  });
  test("'squamous cell carcinoma of the skin' and 'skin cancer' are not cancer history", () => {
    expect(mentionsOf('Squamous cell carcinoma of the skin, excised.', 'rf.cancer-history')).toEqual([]);
    expect(mentionsOf('Skin cancer screening up to date.', 'rf.cancer-history')).toEqual([]);
  });
  test("'fall risk' and 'in the fall' are not falls, 'mechanical fall' is", () => {
    expect(mentionsOf('High fall risk; fall precautions.', 'rf.minor-trauma-osteoporosis#minor-injury')).toEqual([]);
    expect(mentionsOf('Pain began in the fall.', 'rf.minor-trauma-osteoporosis#minor-injury')).toEqual([]);
    expect(mentionOf('Mechanical fall at home.', 'rf.minor-trauma-osteoporosis#minor-injury').phrase).toBe('mechanical fall');
  });
  test("the longest phrase of a set wins: 'unintentional weight loss' is one mention, not also 'weight loss'", () => {
    expect(mentionOf('15 lb unintentional weight loss', 'rf.weight-loss').phrase).toBe('unintentional weight loss');
  });
  test("'worsening back pain' is a mention of fact.new-or-worsening-symptoms and of fact.back-symptoms", () => {
    const r = read('Worsening back pain since the MRI.');
    expect(r.mentions.map((m) => [m.set, spanText(r, m)])).toEqual([
      ['fact.new-or-worsening-symptoms', 'Worsening back pain'],
      ['fact.back-symptoms', 'back pain'],
    ]);
  });
  test("a phrase listed in several sets gives a mention of each: 'chronic steroid use'", () => {
    const sets = read('Chronic steroid use for asthma.').mentions.map((m) => m.set);
    expect(sets).toEqual(['rf.minor-trauma-osteoporosis#osteoporosis', 'rf.immunosuppression']);
  });
  test("'radiculopathy' is both a nerve-root finding and a back symptom", () => {
    expect(read('Lumbar radiculopathy.').mentions.map((m) => m.set)).toEqual(['rf.nerve-root-compromise', 'fact.back-symptoms']);
  });
});

describe('negating phrases', () => {
  test("'rectal tone is intact' is a negating phrase", () => {
    const m = mentionOf('Rectal tone is intact.', 'rf.anal-sphincter-laxity');
    expect(m.kind).toBe('negating-phrase');
    expect(isNegating(m)).toBe(true);
    expect(isAffirming(m, [])).toBe(false);
  });
  test("'remains', 'was', 'are' also match before intact/normal/unchanged", () => {
    expect(mentionOf('Saddle sensation remains intact.', 'rf.saddle-anesthesia').kind).toBe('negating-phrase');
    expect(mentionOf('Saddle sensation was normal.', 'rf.saddle-anesthesia').kind).toBe('negating-phrase');
    expect(mentionOf('Symptoms are unchanged.', 'fact.new-or-worsening-symptoms').kind).toBe('negating-phrase');
  });
  test("'afebrile' negates fever by itself", () => {
    const m = mentionOf('Afebrile. BP 136/82.', 'rf.fever');
    expect(m.kind).toBe('negating-phrase');
    expect(isNegating(m)).toBe(true);
  });
  test("'5/5 strength' is a negating phrase of motor weakness, '4/5 strength' a finding", () => {
    expect(mentionOf('5/5 strength in bilateral hip flexors.', 'rf.motor-weakness').kind).toBe('negating-phrase');
    expect(mentionOf('4/5 strength in the left EHL.', 'rf.motor-weakness').kind).toBe('finding');
    expect(mentionOf('4+/5 strength in the left EHL.', 'rf.motor-weakness').phrase).toBe('4+/5 strength');
  });
  test("'not a surgical candidate' is one negating phrase: its 'not' is no trigger and 'surgical candidate' no finding", () => {
    const found = mentionsOf('She is not a surgical candidate given severe COPD.', 'fact.surgery-considered');
    expect(found.map((m) => [m.phrase, m.kind, m.negated])).toEqual([['not a surgical candidate', 'negating-phrase', false]]);
    expect(isNegating(found[0] as (typeof found)[number])).toBe(true);
  });
  test('a negating phrase scoped by a negation trigger is ignored (§8.4)', () => {
    const m = mentionOf('Patient denies that rectal tone intact was ever documented.', 'rf.anal-sphincter-laxity');
    expect(m.scopedByNegation).toBe(true);
    expect(isNegating(m)).toBe(false);
  });
  test('a hypothetical negating phrase negates nothing', () => {
    const m = mentionOf('Return if rectal tone intact is not confirmed.', 'rf.anal-sphincter-laxity');
    expect(isNegating(m)).toBe(false);
  });
});

describe('rf.suspected-tumor also takes cancer-history phrases, only as possible (alsoPossible)', () => {
  test("'possible lymphoma' is a possible-only mention of rf.suspected-tumor", () => {
    const m = mentionOf('Lytic focus, possible lymphoma.', 'rf.suspected-tumor');
    expect(m.possibleOnly).toBe(true);
    expect(flags(m)).toEqual(['possible']);
    expect(isAffirming(m, ['possible'])).toBe(true);
    expect(isAffirming(m, [])).toBe(false);
  });
  test("a plain 'history of lymphoma' gives rf.suspected-tumor no mention", () => {
    expect(mentionsOf('History of lymphoma.', 'rf.suspected-tumor')).toEqual([]);
    expect(mentionsOf('Lymphoma in 2010.', 'rf.suspected-tumor')).toEqual([]);
  });
  test("a negated 'no evidence of possible lymphoma' gives rf.suspected-tumor no mention", () => {
    expect(mentionsOf('No evidence of lymphoma, possibly reactive nodes.', 'rf.suspected-tumor')).toEqual([]);
  });
  test("'possible malignancy' is one mention of rf.suspected-tumor (its own phrase), not two", () => {
    const found = mentionsOf('Possible malignancy.', 'rf.suspected-tumor');
    expect(found).toHaveLength(1);
    expect(found[0]?.possibleOnly).toBeUndefined();
  });
  test("a not-counted 'possible basal cell carcinoma' is no suspected tumor", () => {
    expect(mentionsOf('Possible basal cell carcinoma on the cheek.', 'rf.suspected-tumor')).toEqual([]);
  });
});

describe('which sets are read (§8.4)', () => {
  test('restricted sets (fact.ct-inconclusive) are matched only when asked for', () => {
    expect(mentionsOf('Indeterminate 9 mm sclerotic focus in the L3 vertebral body.', 'fact.ct-inconclusive')).toEqual([]);
    const asked = mentionsOf('Indeterminate 9 mm sclerotic focus in the L3 vertebral body.', 'fact.ct-inconclusive', {
      sets: new Set(['fact.ct-inconclusive']),
    });
    expect(asked.map((m) => m.phrase)).toEqual(['indeterminate']);
  });
  test('only the sets asked for are reported', () => {
    const r = read('Denies fever; saddle numbness.', { sets: new Set(['rf.fever']) });
    expect(r.mentions.map((m) => m.set)).toEqual(['rf.fever']);
  });
  test('an unknown set name is an error of the caller, named', () => {
    expect(() => read('fever', { sets: new Set(['rf.no-such-fact']) })).toThrow(/rf\.no-such-fact/);
  });
});

describe('§8.4 reading of a mention', () => {
  test('an affirming mention is not negated, not another person, and only carries accepted flags', () => {
    const possible = mentionOf('Possible cauda equina syndrome.', 'rf.major-neuro-problem');
    expect(isAffirming(possible, [])).toBe(false);
    expect(isAffirming(possible, new Set(['possible'] as const))).toBe(true);
    const historical = mentionOf('History of lymphoma.', 'rf.cancer-history');
    expect(isAffirming(historical, ['historical'])).toBe(true);
    expect(isAffirming(mentionOf('Her mother had lymphoma.', 'rf.cancer-history'), ['historical', 'possible', 'hypothetical'])).toBe(false);
  });
  test('a negated finding negates unless hypothetical or another person', () => {
    expect(isNegating(mentionOf('Denies fever.', 'rf.fever'))).toBe(true);
    expect(isNegating(mentionOf('Call if no fever resolution.', 'rf.fever'))).toBe(false);
    expect(isNegating(mentionOf('No family history of lymphoma.', 'rf.cancer-history'))).toBe(false);
  });
});
