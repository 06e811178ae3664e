// Lines → sections → sentences (SPEC §8.2). One pass over the lines of the plain text: a line opens a section when
// it begins with a known header and ':' or is a short label ending in ':'; sentences end at . ! ? followed by
// whitespace (not after the lexicon's abbreviations), at ';', at blank lines, at section-opening lines and at the end
// of list items, but not at a single line break inside running text (wrapped lines).
import { FLAG_BIT, type Lexicon, type SectionEffect } from './lexicon.js';
import { Matches } from './patterns.js';
import { S_EFFECT, S_SENTENCE_OF, S_SENT_END, S_SENT_START, S_TOK0, S_TOK1, scratchBytes, scratchInts } from './scratch.js';
import { ASCII_CLASS, C_SPACE, C_WORD, charClass, type Tokens } from './text.js';

/** Blocked-token bits: a section header's label, a pseudo-trigger, a counted mention (§8.2 order of matching). */
export const B_LABEL = 1;
export const B_PSEUDO = 2;
export const B_MENTION = 4;

/**
 * Sentences of a text (plain offsets, end exclusive) with their section flags, and each token's sentence. The
 * arrays are scratch (valid until the next reading); a reading that keeps sentences copies them.
 */
export interface Layout {
  readonly count: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** FLAG_BIT mask the sentence's section adds to its mentions. */
  readonly effect: Uint8Array;
  /** First token of each sentence, and one past its last. */
  readonly tok0: Int32Array;
  readonly tok1: Int32Array;
  /** Sentence of each token. */
  readonly sentenceOf: Int32Array;
}

function effectBits(e: SectionEffect): number {
  switch (e) {
    case 'other':
      return FLAG_BIT.other;
    case 'historical':
      return FLAG_BIT.historical;
    case 'hypothetical':
      return FLAG_BIT.hypothetical;
    case 'none':
      return 0;
  }
}

const DOT = 46;
const SEMI = 59;
const COLON = 58;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** A line starting with -, *, • or a number followed by '.' or ')' (§8.2 list items). */
function isListItem(text: string, t: Tokens, fs: number, le: number, ta: number, tb: number): boolean {
  const c = text.charCodeAt(fs);
  if (c === 45 || c === 42 || c === 0x2022 || c === 0x25e6 || c === 0x2023 || c === 0x2013) {
    return true;
  }
  if (ta >= tb || (t.start[ta] ?? -1) !== fs) {
    return false;
  }
  const e = t.end[ta] ?? 0;
  if (e - fs > 3) {
    return false;
  }
  for (let p = fs; p < e; p++) {
    if (!isDigit(text.charCodeAt(p))) {
      return false;
    }
  }
  const m = text.charCodeAt(e);
  if (m === 41) {
    return true;
  }
  return m === DOT && (e + 1 >= le || isSpaceAt(text, e + 1));
}

function isSpaceAt(text: string, p: number): boolean {
  const c = text.charCodeAt(p);
  return ((c < 128 ? (ASCII_CLASS[c] ?? 0) : charClass(c)) & C_SPACE) !== 0;
}

/**
 * Lays a tokenised text out in sentences and sections; marks header labels in `blocked`. Works on the tokenizer's
 * records of lines, words and sentence punctuation, reading only the characters next to them.
 */
export function layout(text: string, t: Tokens, lex: Lexicon, blocked: Uint8Array): Layout {
  const n = text.length;
  // at most one sentence per line and per sentence mark
  const cap = t.stops + t.lines + 1;
  const start = scratchInts(S_SENT_START, cap);
  const end = scratchInts(S_SENT_END, cap);
  const effect = scratchBytes(S_EFFECT, cap);
  let count = 0;
  let cur = -1;
  let curEffect = 0;
  let sectionEffect = 0;

  const push = (to: number): void => {
    if (cur < 0) {
      return;
    }
    start[count] = cur;
    end[count] = to;
    effect[count] = curEffect;
    count++;
    cur = -1;
  };
  const begin = (at: number): void => {
    cur = at;
    curEffect = sectionEffect;
  };

  /** Is the '.' at p the end of a sentence (not an abbreviation's dot)? */
  const endsAt = (p: number): boolean => {
    if (p + 1 < n && !isSpaceAt(text, p + 1)) {
      return false;
    }
    let q = p;
    while (q > 0 && p - q <= lex.longestAbbreviation) {
      const c = text.charCodeAt(q - 1);
      if (!isAsciiLetter(c) && c !== DOT) {
        break;
      }
      q--;
    }
    if (q === p || p - q > lex.longestAbbreviation) {
      return true;
    }
    if (q > 0) {
      const c = text.charCodeAt(q - 1);
      if (((c < 128 ? (ASCII_CLASS[c] ?? 0) : charClass(c)) & C_WORD) !== 0) {
        return true;
      }
    }
    if (lex.abbreviationKeys[((p - q) << 7) | (text.charCodeAt(q) | 32)] !== 1) {
      return true; // no abbreviation of this length starts with this letter
    }
    const word = text.slice(q, p).toLowerCase();
    if (lex.abbreviations.has(word)) {
      return false;
    }
    if (lex.beforeDigit.has(word)) {
      let r = p + 1;
      while (r < n && isSpaceAt(text, r)) {
        r++;
      }
      return !(r < n && isDigit(text.charCodeAt(r)));
    }
    return true;
  };

  let tk = 0;
  let sk = 0;
  let lastEnd = 0;
  for (let l = 0; l < t.lines; l++) {
    const fs = t.lineFirst[l] ?? -1;
    const le = t.lineEnd[l] ?? 0;
    const ta = tk;
    while (tk < t.count && (t.start[tk] ?? 0) < le) {
      tk++;
    }
    const tb = tk;
    if (fs < 0) {
      push(lastEnd); // a blank line
      continue;
    }
    const lastNs = t.lineLast[l] ?? fs;
    const header = headerAt(text, t, lex, ta, tb, fs, lastNs);
    let labelOnly = false;
    let listItem = false;
    if (header !== null) {
      push(lastEnd);
      sectionEffect = effectBits(header.effect);
      for (let k = ta; k < tb && (t.start[k] ?? 0) < header.labelEnd; k++) {
        blocked[k] = (blocked[k] ?? 0) | B_LABEL;
      }
      labelOnly = header.labelEnd > lastNs;
    } else if (isListItem(text, t, fs, le, ta, tb)) {
      push(lastEnd);
      listItem = true;
    }
    if (cur < 0) {
      begin(fs);
    }
    // the sentence punctuation of this line
    while (sk < t.stops && (t.stopAt[sk] ?? 0) < le) {
      const p = t.stopAt[sk] ?? 0;
      sk++;
      const c = text.charCodeAt(p);
      const ends = c === SEMI || (c === DOT ? endsAt(p) : p + 1 >= n || isSpaceAt(text, p + 1));
      if (!ends || cur < 0 || p < cur) {
        continue;
      }
      push(p + 1);
      if (p < lastNs) {
        let q = p + 1;
        while (q < lastNs && isSpaceAt(text, q)) {
          q++;
        }
        begin(q);
      }
    }
    lastEnd = lastNs + 1;
    if (listItem || labelOnly) {
      push(lastEnd); // the end of a list item; a label alone on its line
    }
  }
  push(lastEnd);

  const tok0 = scratchInts(S_TOK0, count);
  const tok1 = scratchInts(S_TOK1, count);
  const sentenceOf = scratchInts(S_SENTENCE_OF, t.count);
  let k = 0;
  for (let s = 0; s < count; s++) {
    const ss = start[s] ?? 0;
    const se = end[s] ?? 0;
    while (k < t.count && (t.start[k] ?? 0) < ss) {
      sentenceOf[k] = s > 0 ? s - 1 : 0; // not reached: every word lies in a sentence
      k++;
    }
    tok0[s] = k;
    while (k < t.count && (t.start[k] ?? 0) < se) {
      sentenceOf[k] = s;
      k++;
    }
    tok1[s] = k;
  }
  return { count, start, end, effect, tok0, tok1, sentenceOf };
}

/** The header a line opens, with the end of its label (after the ':'), or null. */
function headerAt(
  text: string,
  t: Tokens,
  lex: Lexicon,
  ta: number,
  tb: number,
  fs: number,
  lastNs: number,
): { effect: SectionEffect; labelEnd: number } | null {
  if (ta >= tb || (t.start[ta] ?? -1) !== fs) {
    return null;
  }
  let best: { effect: SectionEffect; labelEnd: number } | null = null;
  if (lex.headers.mayStart(t, ta, false)) {
    HEADERS.count = 0;
    lex.headers.matchAt(text, t, ta, tb, NO_BLOCK, 0, false, HEADERS);
    for (let m = 0; m < HEADERS.count; m++) {
      let p = t.end[HEADERS.ends[m] ?? 0] ?? 0;
      while (p <= lastNs && isSpaceAt(text, p)) {
        p++;
      }
      const term = HEADERS.terms[m];
      if (term !== undefined && p <= lastNs && text.charCodeAt(p) === COLON && (best === null || p + 1 > best.labelEnd)) {
        best = { effect: term.payload, labelEnd: p + 1 };
      }
    }
  }
  if (best !== null) {
    return best;
  }
  if (text.charCodeAt(lastNs) === COLON && tb - ta <= lex.maxHeaderWords) {
    return { effect: 'none', labelEnd: lastNs + 1 };
  }
  return null;
}

const NO_BLOCK = new Uint8Array(0);
const HEADERS = new Matches<SectionEffect>();
