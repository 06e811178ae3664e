/**
 * The clinical-notes reader (SPEC §8): pure, synchronous, no I/O, no clinical word in code.
 *
 * Pipeline, one pass per stage over arrays built once per text:
 *
 * 1. **HTML → text** (§8.1, `html.ts`): `<br>`, `<p>`, `<div>`, `<li>`, `<tr>`, `<h1>`–`<h6>` end a line, other tags
 *    separate words, comments and `<script>`/`<style>` dropped, character references decoded; every plain character
 *    keeps the original range it came from, so evidence spans are offsets into the HTML as stored (§8.4).
 * 2. **Words** (`text.ts`): maximal runs of letters and digits, each looked up once in the lexicon's vocabulary (also
 *    without a plural s/es); the separators between words are classified (flexible: whitespace, hyphen, '/').
 * 3. **Sections and sentences** (§8.2, `sections.ts`): header lines (a known header and ':', or ≤ six words ending
 *    in ':') open sections whose effect (other, historical, hypothetical, none) flags every mention under them;
 *    sentences end at . ! ? (not after abbreviations), ';', blank lines, header lines and list items — not at a
 *    wrapped line.
 * 4. **Matching** (§8.2 order, `match.ts`): pseudo-triggers first (their words are neither mentions nor triggers);
 *    then phrases — the longest wins within a set, sets overlap freely, "not counted" phrases win and count for
 *    nothing, capitals-only abbreviations, plural on the last word, "is/are/was/remains" in negating phrases ending
 *    in intact/normal/unchanged; then triggers and termination terms where no mention is, the longest winning.
 * 5. **Assertion** (§8.3, `context.ts`): forward/backward scopes to the sentence's end/start, cut at termination
 *    terms, at the next trigger of the same category and at the trigger's reach.
 * 6. **Conservative care** (§8.6, `care.ts`): a modality bound to a duration or a start date in its sentence.
 *
 * What a mention means for a fact (§8.4) is `isAffirming` / `isNegating` plus the date window, which the facts layer
 * applies; `quoteOf` gives the sentence a card quotes. `assertionOf` is §8.7's sentence reader (the `read-sentence`
 * command). The lexicon (policy/notes-lexicon.json) is compiled by `compileLexicon`; reading it from disk is
 * `loadLexicon` in src/policy/load-lexicon.ts.
 *
 * @module
 */
export { compileLexicon, LexiconError, type AcceptableFlag, type Lexicon, type PhraseSetInfo, type SectionEffect } from './lexicon.js';
export {
  assertionOf,
  readNote,
  type AssertionFlags,
  type CareMention,
  type Mention,
  type NoteReading,
  type ReadOptions,
  type SentenceAssertion,
  type SentenceRange,
  type TextSpan,
} from './read-note.js';
export type { CareBinding } from './care.js';
export { isAffirming, isNegating, quoteOf, type Accepts, type Assertable } from './assertion.js';
export { htmlToText, type PlainText } from './html.js';
export { answerSentenceLine } from './sentence-line.js';
