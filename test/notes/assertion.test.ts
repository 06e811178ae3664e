// SPEC §8.3: the assertion of a mention (ConText), read through §8.7's sentence reader and through whole notes.
import { assertion, flags, mentionOf } from './reader.js';

describe('negation (forward and backward triggers)', () => {
  test("'Denies saddle anesthesia' is a negated mention of saddle anesthesia", () => {
    expect(flags(mentionOf('Denies saddle anesthesia.', 'rf.saddle-anesthesia'))).toEqual(['negated']);
  });
  test("'Denies b/b incontinence' is a negated mention of bladder dysfunction (the clinician's abbreviation of bowel/bladder)", () => {
    expect(flags(mentionOf('Denies b/b incontinence, saddle anesthesia.', 'rf.bladder-dysfunction'))).toEqual(['negated']);
  });
  test("'No fever or chills.' negates both findings: a forward trigger reaches the end of its sentence", () => {
    expect(assertion('No fever or chills.', 'fever')).toEqual(['negated']);
    expect(assertion('No fever or chills.', 'chills')).toEqual(['negated']);
  });
  test("'without wheezes or crackles' negates the crackles", () => {
    expect(assertion('Lungs clear without wheezes or crackles.', 'crackles')).toEqual(['negated']);
  });
  test("'Night pain is absent' is negated by the backward trigger 'is absent'", () => {
    expect(flags(mentionOf('Night pain is absent; the pain eases when she lies down.', 'rf.night-pain-supine'))).toEqual(['negated']);
  });
  test("'The pneumonia has resolved' is negated by a backward trigger", () => {
    expect(assertion('The pneumonia has resolved.', 'pneumonia')).toEqual(['negated']);
  });
  test("'resolved' and 'denied' apply in both directions", () => {
    expect(assertion('Resolved pneumonia on the follow-up film.', 'pneumonia')).toEqual(['negated']);
    expect(assertion('Fever denied.', 'fever')).toEqual(['negated']);
    expect(assertion('Denied fever.', 'fever')).toEqual(['negated']);
  });
  test("'No history of cancer' is one negation trigger, not a negation plus a history", () => {
    expect(assertion('No history of cancer.', 'cancer')).toEqual(['negated']);
  });
  test("'Patient has not had any fevers' is negated", () => {
    expect(assertion('Patient has not had any fevers.', 'fevers')).toEqual(['negated']);
  });
  test("'absence of saddle anesthesia' is negated", () => {
    expect(assertion('Absence of saddle anesthesia on exam.', 'saddle anesthesia')).toEqual(['negated']);
  });
  test("'Fever: none.' is negated by the ': none' form", () => {
    expect(assertion('Fever: none.', 'Fever')).toEqual(['negated']);
  });
  test("'Chills: no, sweats: yes' negates the chills, not the sweats", () => {
    expect(assertion('Chills: no, sweats: yes', 'Chills')).toEqual(['negated']);
    expect(assertion('Chills: no, sweats: yes', 'sweats')).toEqual([]);
  });
  test("': no' followed by more words is the forward 'no': 'Exam: no saddle anesthesia'", () => {
    expect(assertion('Findings: no saddle anesthesia', 'saddle anesthesia')).toEqual(['negated']);
  });
  test("'Fever: no' at the end of a line negates the fever and not the next line's chills (added line-end form)", () => {
    expect(assertion('Fever: no\nChills: yes', 'Fever')).toEqual(['negated']);
    expect(assertion('Fever: no\nChills: yes', 'Chills')).toEqual([]);
  });
  test('a backward trigger reaches at most five words: the chills six words back are not negated', () => {
    const text = 'Fever, chills, night sweats and weight loss were negative.';
    expect(assertion(text, 'weight loss')).toEqual(['negated']);
    expect(assertion(text, 'night sweats')).toEqual(['negated']); // "night" is the fifth word back
    expect(assertion(text, 'chills')).toEqual([]);
    expect(assertion(text, 'fever')).toEqual([]);
  });
  test("'rather than' negates what follows", () => {
    expect(assertion('Mechanical pain rather than radiculopathy.', 'radiculopathy')).toEqual(['negated']);
  });
});

describe('scope ends at termination terms and at triggers of the same category', () => {
  test("'Denies fever, but endorses saddle numbness' affirms the saddle numbness ('but' terminates)", () => {
    expect(flags(mentionOf('Denies fever, but endorses saddle numbness since this morning.', 'rf.saddle-anesthesia'))).toEqual([]);
    expect(flags(mentionOf('Denies fever, but endorses saddle numbness since this morning.', 'rf.fever'))).toEqual(['negated']);
  });
  test("'Denies fever, endorses chills' affirms the chills ('endorses' is an added termination term)", () => {
    expect(assertion('Denies fever, endorses chills.', 'chills')).toEqual([]);
  });
  test("'Negative for fever, positive for chills' affirms the chills", () => {
    expect(assertion('Negative for fever, positive for chills.', 'chills')).toEqual([]);
  });
  test('a backward trigger stops at a termination term before it', () => {
    expect(assertion('Fever which is absent.', 'Fever')).toEqual([]);
  });
  test('a forward trigger stops at the next trigger of its category, which takes over', () => {
    // "no" reaches up to "denies"; "denies" then negates what follows it
    expect(assertion('No fever; denies chills.', 'chills')).toEqual(['negated']);
    expect(assertion('No fever, possible chills.', 'chills')).toEqual(['negated', 'possible']);
  });
  test('a historical trigger stops at another historical trigger', () => {
    expect(assertion('History of cancer and previous fracture.', 'fracture')).toEqual(['historical']);
  });
  test('scope never crosses a sentence end', () => {
    expect(assertion('Denies fever. Saddle numbness present.', 'Saddle numbness')).toEqual([]);
  });
});

describe('possible', () => {
  test("'possible discitis' is a possible mention", () => {
    expect(flags(mentionOf('Low back pain, possible discitis given recent dental work.', 'rf.infection'))).toEqual(['possible']);
  });
  test("'concerning for metastatic disease' is possible", () => {
    expect(flags(mentionOf('An L2 abnormality concerning for metastatic disease.', 'rf.suspected-tumor'))).toEqual(['possible']);
  });
  test("'Rule out MI' and 'r/o MI' are possible, not negated", () => {
    expect(assertion('Rule out MI.', 'MI')).toEqual(['possible']);
    expect(assertion('Admit to r/o MI.', 'MI')).toEqual(['possible']);
  });
  test("'ruled out' is negated but 'not ruled out' is possible (the longest trigger wins)", () => {
    expect(assertion('Pneumonia was ruled out.', 'Pneumonia')).toEqual(['negated']);
    expect(assertion('Pneumonia is not ruled out.', 'Pneumonia')).toEqual(['possible']);
  });
  test("'cannot be excluded' is a backward possible trigger", () => {
    expect(assertion('Infection cannot be excluded.', 'Infection')).toEqual(['possible']);
  });
  test("'Disc herniation suspected' is possible (an added backward form)", () => {
    expect(assertion('Disc herniation suspected.', 'Disc herniation')).toEqual(['possible']);
  });
});

describe('hypothetical', () => {
  test("'Call if fever develops' is hypothetical", () => {
    expect(assertion('Call if fever develops.', 'fever')).toEqual(['hypothetical']);
  });
  test("'Call if fever or urinary retention develops' makes both hypothetical", () => {
    expect(flags(mentionOf('Call if fever or urinary retention develops.', 'rf.fever'))).toEqual(['hypothetical']);
    expect(flags(mentionOf('Call if fever or urinary retention develops.', 'rf.bladder-dysfunction'))).toEqual(['hypothetical']);
  });
  test("'saddle numbness if it occurs' is hypothetical through a backward trigger", () => {
    expect(assertion('Return for saddle numbness if it occurs.', 'saddle numbness')).toEqual(['hypothetical']);
    expect(assertion('Saddle numbness, if present, needs an MRI today.', 'Saddle numbness')).toEqual(['hypothetical']);
  });
  test("'Recommend an epidural steroid injection' is hypothetical", () => {
    expect(flags(mentionOf('Recommend an epidural steroid injection at L4-L5.', 'fact.surgery-considered'))).toEqual(['hypothetical']);
  });
  test("'at risk for falls' reads as not counted, but 'risk of fracture' is hypothetical", () => {
    expect(assertion('She is at risk of fracture.', 'fracture')).toEqual(['hypothetical']);
  });
});

describe('historical', () => {
  test("'h/o IVDU' is a historical mention", () => {
    expect(flags(mentionOf('h/o IVDU (heroin), in recovery on buprenorphine.', 'rf.iv-drug-use'))).toEqual(['historical']);
  });
  test("'history of fevers' is historical", () => {
    expect(flags(mentionOf('She has a history of fevers after a kidney stone procedure in 2023.', 'rf.fever'))).toEqual(['historical']);
  });
  test("'s/p' reaches four words forward: the fourth word is historical, the fifth is not", () => {
    expect(assertion('s/p laminectomy in 2015 for stenosis', 'laminectomy')).toEqual(['historical']);
    expect(assertion('s/p laminectomy in 2015 stenosis', 'stenosis')).toEqual(['historical']);
    expect(assertion('s/p laminectomy in 2015 for stenosis', 'stenosis')).toEqual([]);
  });
  test("'prior' and 'status post' reach four words forward", () => {
    expect(assertion('Prior lumbar fusion.', 'lumbar fusion')).toEqual(['historical']);
    expect(assertion('Prior MRI of the lumbar spine showed stenosis.', 'stenosis')).toEqual([]);
    expect(assertion('Status post L4-L5 microdiscectomy.', 'microdiscectomy')).toEqual(['historical']);
  });
  test("'previously' applies in both directions", () => {
    expect(assertion('He was previously diagnosed with lymphoma.', 'lymphoma')).toEqual(['historical']);
    expect(assertion('Lymphoma treated previously.', 'Lymphoma')).toEqual(['historical']);
  });
  test("'years ago' is a backward historical trigger", () => {
    expect(assertion('Lumbar fusion 10 years ago.', 'Lumbar fusion')).toEqual(['historical']);
  });
});

describe('experiencer', () => {
  test("'her mother had breast cancer' is not the patient's cancer", () => {
    expect(flags(mentionOf('She is anxious because her mother had breast cancer that later spread to the bones.', 'rf.cancer-history'))).toEqual(['other']);
  });
  test("'colon cancer in his father' is the father's (backward)", () => {
    expect(assertion('Colon cancer in his father.', 'Colon cancer')).toEqual(['other']);
  });
  test("'family history of colon cancer' is the family's", () => {
    expect(assertion('Significant family history of colon cancer.', 'colon cancer')).toEqual(['other']);
  });
  test("'No family history of cancer' is negated and the family's, so it says nothing of the patient", () => {
    expect(assertion('No family history of lymphoma.', 'lymphoma')).toEqual(['negated', 'other']);
  });
  test("'Per his wife, he has had fevers' is the patient's fever (the wife only reports it)", () => {
    expect(assertion('Per his wife, he has had fevers.', 'fevers')).toEqual([]);
  });
  test("'by his wife' is a pseudo-trigger", () => {
    expect(assertion('Brought in by his wife for fever.', 'fever')).toEqual([]);
  });
});

describe('pseudo-triggers and overlapping triggers', () => {
  test("'no improvement after 6 weeks of physical therapy' is not negated (pseudo-trigger)", () => {
    expect(assertion('No improvement after 6 weeks of physical therapy.', 'physical therapy')).toEqual([]);
  });
  test("'without relief' does not negate the meloxicam", () => {
    expect(assertion('Pain persists without relief despite meloxicam 15 mg daily for 5 weeks.', 'meloxicam')).toEqual([]);
  });
  test("'no change in the disc herniation' is not negated", () => {
    expect(assertion('No change in the disc herniation.', 'disc herniation')).toEqual([]);
  });
  test("'gram negative bacteremia' is not negated", () => {
    expect(assertion('Gram negative bacteremia last month.', 'bacteremia')).toEqual([]);
  });
  test("'history of present illness' is neither a mention nor a historical trigger", () => {
    expect(assertion('History of present illness: fever for two days.', 'fever')).toEqual([]);
  });
  test("an unresolved fever is not negated: 'fever has not resolved' (added pseudo-trigger)", () => {
    expect(assertion('Fever has not resolved.', 'Fever')).toEqual([]);
  });
  test("'did not tolerate NSAIDs' means NSAIDs were taken (added pseudo-trigger)", () => {
    expect(assertion('She did not tolerate NSAIDs.', 'NSAIDs')).toEqual([]);
  });
});

describe('sections', () => {
  test("'Family History: colon cancer' is another person's cancer", () => {
    expect(flags(mentionOf('Family History: colon cancer', 'rf.cancer-history'))).toEqual(['other']);
  });
  test("radiculopathy under 'PMH:' is historical", () => {
    expect(flags(mentionOf('PMH:\n- Hypertension\n- Lumbar radiculopathy (L5), 2019\n', 'rf.nerve-root-compromise'))).toEqual(['historical']);
  });
  test("red flags under 'Return Precautions:' are hypothetical", () => {
    const note = 'Return Precautions:\nReturn to the emergency department for saddle numbness, leg weakness, or\nloss of bladder control.';
    expect(flags(mentionOf(note, 'rf.motor-weakness'))).toEqual(['hypothetical']);
    expect(flags(mentionOf(note, 'rf.bladder-dysfunction'))).toEqual(['hypothetical']);
  });
  test('a section flag adds to trigger flags', () => {
    expect(flags(mentionOf('PMH: no history of lymphoma.', 'rf.cancer-history'))).toEqual(['negated', 'historical']);
  });
});
