// Helpers for the notes-reader tests: the shipped lexicon, read once, and short ways to ask what a sentence says.
import { assertionOf, readNote, type CareMention, type Lexicon, type Mention, type NoteReading, type ReadOptions } from '../../src/notes/index.js';
import { loadLexicon } from '../../src/policy/load-lexicon.js';

export const lexicon: Lexicon = loadLexicon();

/** 2026-11-27, the date the public scenario notes are written on (their ${us:today-40d} is 10/21/2026). */
export const NOTE_DATE = Date.UTC(2026, 10, 27);

export function read(text: string, options: Partial<ReadOptions> = {}): NoteReading {
  return readNote(text, lexicon, { html: false, noteDate: NOTE_DATE, ...options });
}

/** The mentions of one set in a text. */
export function mentionsOf(text: string, set: string, options: Partial<ReadOptions> = {}): Mention[] {
  return read(text, options).mentions.filter((m) => m.set === set);
}

/** The one mention of a set in a text (fails the test when there is not exactly one). */
export function mentionOf(text: string, set: string, options: Partial<ReadOptions> = {}): Mention {
  const found = mentionsOf(text, set, options);
  if (found.length !== 1) {
    throw new Error(`expected one mention of ${set} in ${JSON.stringify(text)}, found ${found.length}: ${JSON.stringify(found.map((m) => m.phrase))}`);
  }
  return found[0] as Mention;
}

/** The flags of a mention as a compact list, for readable expectations. */
export function flags(m: { negated: boolean; possible: boolean; hypothetical: boolean; historical: boolean; other: boolean }): string[] {
  return (['negated', 'possible', 'hypothetical', 'historical', 'other'] as const).filter((f) => m[f]);
}

/** The flags §8.7's reader gives the first occurrence of `target` (['not found'] when absent). */
export function assertion(text: string, target: string): string[] {
  const a = assertionOf(text, target, lexicon);
  if (!a.found) {
    return ['not found'];
  }
  return flags({ negated: a.negated, possible: a.possible, hypothetical: a.hypothetical, historical: a.historical, other: a.experiencer === 'other' });
}

/** The care records of a text. */
export function careOf(text: string, options: Partial<ReadOptions> = {}): readonly CareMention[] {
  return read(text, options).care;
}

/** The text a span covers. */
export function spanText(reading: NoteReading, m: { plainStart: number; plainEnd: number }): string {
  return reading.text.slice(m.plainStart, m.plainEnd);
}
