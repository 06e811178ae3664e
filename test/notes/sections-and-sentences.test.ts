// SPEC §8.2: sections (the header table and the six-word rule) and sentences.
import { flags, mentionOf, read, spanText } from './reader.js';

/** The sentence of a set's one mention, as text. */
function sentenceOf(text: string, set: string): string {
  const r = read(text);
  const m = mentionOf(text, set);
  return r.text.slice(m.sentence.start, m.sentence.end);
}

describe('sections', () => {
  test.each([
    ['Family History', 'other'],
    ['Family Hx', 'other'],
    ['FHx', 'other'],
    ['FH', 'other'],
    ['Past Medical History', 'historical'],
    ['Past Surgical History', 'historical'],
    ['Past History', 'historical'],
    ['Medical History', 'historical'],
    ['PMH', 'historical'],
    ['PSH', 'historical'],
    ['PMHx', 'historical'],
    ['Patient Instructions', 'hypothetical'],
    ['Discharge Instructions', 'hypothetical'],
    ['Return Precautions', 'hypothetical'],
    ['Instructions', 'hypothetical'],
  ])("a lymphoma under '%s:' is %s", (header, effect) => {
    expect(flags(mentionOf(`${header}: lymphoma`, 'rf.cancer-history'))).toEqual([effect]);
    expect(flags(mentionOf(`${header.toUpperCase()}:\nlymphoma`, 'rf.cancer-history'))).toEqual([effect]);
  });
  test("a header is matched case-insensitively and with spaces before the colon: 'family history :'", () => {
    expect(flags(mentionOf('family history : lymphoma', 'rf.cancer-history'))).toEqual(['other']);
  });
  test('the section runs over the following lines until the next header', () => {
    const note = 'Family History:\nHypertension - mother.\nColon cancer (diagnosed at 58) - father.\n\nSocial History:\nLymphoma in remission? No: that was his brother.';
    const cancer = read(note).mentions.filter((m) => m.set === 'rf.cancer-history');
    expect(cancer.map((m) => m.phrase)).toEqual(['cancer', 'lymphoma']);
    expect(cancer[0]?.other).toBe(true);
  });
  test("a 'none' header ends the section before it: 'Assessment:' after 'PMH:'", () => {
    const note = 'PMH:\nradiculopathy 2019\nAssessment:\nacute radiculopathy, right L5';
    const found = read(note).mentions.filter((m) => m.set === 'rf.nerve-root-compromise');
    expect(found.map((m) => m.historical)).toEqual([true, false]);
  });
  test('a line of at most six words ending in a colon opens a section with no effect, ending the one before', () => {
    const note = 'Family History:\ncolon cancer\nCurrent problems being treated today:\nlymphoma';
    const found = read(note).mentions.filter((m) => m.set === 'rf.cancer-history');
    expect(found.map((m) => m.other)).toEqual([true, false]);
  });
  test('a line of seven words ending in a colon is not a header', () => {
    const note = 'Family History:\ncolon cancer\nthe things he told me about his relatives:\nlymphoma';
    const found = read(note).mentions.filter((m) => m.set === 'rf.cancer-history');
    expect(found.map((m) => m.other)).toEqual([true, true]);
  });
  test('text after the colon on the header line belongs to the section', () => {
    expect(flags(mentionOf('PMH: lymphoma, treated', 'rf.cancer-history'))).toEqual(['historical']);
  });
  test("a header's own words are neither mentions nor triggers: 'Cancer History:' alone is no cancer", () => {
    expect(read('Cancer History:\nNone').mentions.filter((m) => m.set === 'rf.cancer-history')).toEqual([]);
  });
  test('a line that merely contains a header word is not a header', () => {
    expect(flags(mentionOf('Her family history is notable; she has lymphoma.', 'rf.cancer-history'))).toEqual([]);
  });
});

describe('sentences', () => {
  test("a sentence ends at '.' followed by whitespace", () => {
    expect(sentenceOf('Denies fever. Saddle numbness since today.', 'rf.saddle-anesthesia')).toBe('Saddle numbness since today.');
  });
  test("'Dr.' and the other abbreviations do not end a sentence", () => {
    expect(sentenceOf('Seen by Dr. Smith vs. Dr. Jones for saddle numbness.', 'rf.saddle-anesthesia')).toBe('Seen by Dr. Smith vs. Dr. Jones for saddle numbness.');
    expect(sentenceOf('Red flags, e.g. saddle numbness, were reviewed.', 'rf.saddle-anesthesia')).toBe('Red flags, e.g. saddle numbness, were reviewed.');
  });
  test("'No.' before a digit does not end a sentence, elsewhere it does", () => {
    expect(sentenceOf('Lab order No. 5 shows bacteremia.', 'rf.recent-bacterial-infection')).toBe('Lab order No. 5 shows bacteremia.');
    expect(sentenceOf('Fever? No. Bacteremia last month.', 'rf.recent-bacterial-infection')).toBe('Bacteremia last month.');
  });
  test("a '.' inside a number does not end a sentence: 'T 36.9 C'", () => {
    expect(sentenceOf('T 36.9 C and febrile overnight.', 'rf.fever')).toBe('T 36.9 C and febrile overnight.');
  });
  test("a sentence ends at ';'", () => {
    expect(sentenceOf('Night pain is absent; the pain eases when she lies down.', 'rf.night-pain-supine')).toBe('Night pain is absent;');
  });
  test("a sentence ends at '!' and '?'", () => {
    expect(sentenceOf('Pain is severe! Fever since Monday?', 'rf.fever')).toBe('Fever since Monday?');
  });
  test('a blank line ends a sentence', () => {
    expect(flags(mentionOf('Denies chest pain, cough\n\nsaddle numbness reported', 'rf.saddle-anesthesia'))).toEqual([]);
  });
  test('a single line break inside running text does not end a sentence (wrapped lines)', () => {
    const note = 'HPI: 54 yo M with 3 weeks of low back pain. He denies fever, chills or\nsaddle numbness when sitting on the toilet.';
    expect(flags(mentionOf(note, 'rf.saddle-anesthesia'))).toEqual(['negated']);
    expect(sentenceOf(note, 'rf.saddle-anesthesia')).toBe('He denies fever, chills or\nsaddle numbness when sitting on the toilet.');
  });
  test.each(['- ', '* ', '• ', '1. ', '2) '])("a list item ('%s…') ends its sentence at the end of its line", (marker) => {
    const note = `ROS:\n${marker}denies fever\n${marker}saddle numbness`;
    expect(flags(mentionOf(note, 'rf.saddle-anesthesia'))).toEqual([]);
    expect(flags(mentionOf(note, 'rf.fever'))).toEqual(['negated']);
  });
  test('a line that opens a section ends the sentence before it', () => {
    const note = 'She denies fever and chills\nPlan: saddle numbness to be checked';
    expect(flags(mentionOf(note, 'rf.saddle-anesthesia'))).toEqual([]);
  });
  test('a number at the start of a wrapped line is not a list item', () => {
    expect(sentenceOf('Fevers started in\n2019. Now resolved.', 'rf.fever')).toBe('Fevers started in\n2019.');
  });
  test('CR LF line ends are line ends, not blank lines', () => {
    const note = 'He denies fever, chills or\r\nsaddle numbness.';
    expect(flags(mentionOf(note, 'rf.saddle-anesthesia'))).toEqual(['negated']);
    expect(spanText(read(note), mentionOf(note, 'rf.saddle-anesthesia'))).toBe('saddle numbness');
  });
});
