// One line of the §8.7 sentence reader: JSON in, JSON out, never a throw (a malformed line is answered with an
// error line and the reader goes on).
import type { Lexicon } from './lexicon.js';
import { assertionOf } from './read-note.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Answers one input line `{"text": "...", "target": "..."}` with one JSON line (no newline): the §8.7 assertion of
 * the target's first occurrence, or `{"error": "..."}`.
 *
 * @param line - one line of standard input
 * @param lexicon - the compiled lexicon
 */
export function answerSentenceLine(line: string, lexicon: Lexicon): string {
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch {
    return JSON.stringify({ error: 'the line is not JSON: expected {"text": "...", "target": "..."}' });
  }
  if (!isRecord(input) || typeof input.text !== 'string' || typeof input.target !== 'string') {
    return JSON.stringify({ error: 'expected an object with string fields "text" and "target"' });
  }
  try {
    return JSON.stringify(assertionOf(input.text, input.target, lexicon));
  } catch (e) {
    // not expected: the reader never throws on text; answer rather than stop the stream
    return JSON.stringify({ error: `could not read the sentence: ${e instanceof Error ? e.message : String(e)}` });
  }
}
