// Sentences in the style of the NegEx / ConText annotated corpora (discharge-summary sentences with a concept and
// its status), read with §8.7's sentence reader: the target need not be a lexicon phrase.
import { assertion } from './reader.js';

test.each([
  ['He denies any shortness of breath, nausea, or diaphoresis.', 'diaphoresis', ['negated']],
  ['The patient was ruled out for myocardial infarction.', 'myocardial infarction', ['negated']],
  ['Chest x-ray showed no infiltrate.', 'infiltrate', ['negated']],
  ['No evidence of deep venous thrombosis.', 'deep venous thrombosis', ['negated']],
  ['Negative for fever, chills, and night sweats.', 'night sweats', ['negated']],
  ['The pain is not pleuritic.', 'pleuritic', ['negated']],
  ['Extremities without edema.', 'edema', ['negated']],
  ['Abdomen is soft and nontender without hepatosplenomegaly.', 'hepatosplenomegaly', ['negated']],
  ['Free of any symptoms of angina.', 'angina', ['negated']],
  ['Pneumonia, resolved.', 'Pneumonia', ['negated']],
  ['Lungs: clear. No wheezes, rales, or rhonchi.', 'rhonchi', ['negated']],
  ['She is not currently experiencing chest pain.', 'chest pain', ['negated']],
  ['Patient reports headache but denies visual changes.', 'visual changes', ['negated']],
  ['Patient reports headache but denies visual changes.', 'headache', []],
  ['The patient is a 67-year-old male who presents with chest pain.', 'chest pain', []],
  ['The infiltrate is unchanged.', 'infiltrate', []],
  ['Resolving pneumonia.', 'pneumonia', []],
  ['Rule out pneumonia.', 'pneumonia', ['possible']],
  ['Possible pneumonia in the right lower lobe.', 'pneumonia', ['possible']],
  ["Can't rule out a small epidural abscess.", 'epidural abscess', ['possible']],
  ['Can’t rule out a small epidural abscess.', 'epidural abscess', ['possible']],
  ['If she develops fever, she should return to the ED.', 'fever', ['hypothetical']],
  ['She has a history of hypertension.', 'hypertension', ['historical']],
  ["History of Hodgkin's disease.", "Hodgkin's disease", ['historical']],
  ['He was previously on warfarin for DVT.', 'DVT', ['historical']],
  ['Her father died of a myocardial infarction.', 'myocardial infarction', ['other']],
  ['Her mother has diabetes.', 'diabetes', ['other']],
  ['No family history of colon cancer.', 'colon cancer', ['negated', 'other']],
])('%s — %s: %j', (text, target, expected) => {
  expect(assertion(text, target)).toEqual(expected);
});

// Back-pain narratives, where the lexicon's additions were chosen against the SPEC's words read alone.
test.each([
  ['After lifting his son he developed low back pain.', 'low back pain', []],
  ['Low back pain since carrying her grandson up the stairs.', 'low back pain', []],
  ['His son has low back pain.', 'low back pain', ['other']],
  ['Back pain began after helping a friend move a couch.', 'Back pain', []],
  ['After helping a friend move he noticed leg weakness.', 'leg weakness', []],
  ['In the past week she has had fevers and chills.', 'fevers', []],
  ['In the past 2 weeks he has noticed saddle numbness.', 'saddle numbness', []],
  ['In the past he had a lumbar fracture.', 'lumbar fracture', ['historical']],
  ['He fell on the ice 2 months ago.', 'fell', []],
  ['Patient cannot void; urinary retention noted on bladder scan.', 'urinary retention', []],
  ['She cannot feel the saddle area.', 'saddle area', []],
])('%s — %s: %j', (text, target, expected) => {
  expect(assertion(text, target)).toEqual(expected);
});
