// Characters, words and the tokenizer of the notes reader (SPEC §8.2 "Mentions": case-insensitive, on word
// boundaries, any run of whitespace / line break / hyphen / '/' between two words matching any other such run).
// Everything here works on UTF-16 code units without allocating per character: a 1,000,000-character text is
// tokenised once, and every later stage (sections, phrases, triggers, care) reads these arrays.

/** A word character: a letter, digit or combining mark. */
export const C_WORD = 1;
/** Whitespace, line breaks included. */
export const C_SPACE = 2;
/** A hyphen or '/': between two words it matches whitespace (§8.2). */
export const C_JOIN = 4;
/** A line break (LF, CR, line/paragraph separator). */
export const C_BREAK = 8;

const BMP = 0x10000;
// 0 = not yet classified; otherwise the class bits + 128 (so that "no class" is still a non-zero entry).
const classCache = new Uint8Array(BMP);
const lowerCache = new Uint16Array(BMP);
const WORD_RE = /[\p{L}\p{N}\p{M}]/u;
const SPACE_RE = /\s/u;

function classify(c: number): number {
  if (c >= 0xd800 && c <= 0xdfff) {
    return 0; // surrogate halves: astral symbols (emoji…) separate words
  }
  const ch = String.fromCharCode(c);
  let k = 0;
  if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029 || c === 0x0b || c === 0x0c || c === 0x85) {
    k = C_SPACE | C_BREAK;
  } else if (SPACE_RE.test(ch) || c === 0xfeff) {
    k = C_SPACE;
  } else if (c === 0x2d || c === 0x2f || c === 0x2010 || c === 0x2011) {
    k = C_JOIN;
  } else if (WORD_RE.test(ch)) {
    k = C_WORD;
  }
  return k;
}

/** The class bits of a UTF-16 code unit. */
export function charClass(c: number): number {
  const cached = classCache[c] ?? 0;
  if (cached !== 0) {
    return cached - 128;
  }
  const k = classify(c);
  classCache[c] = k + 128;
  return k;
}

/** The lower-case form of a code unit when it is a single code unit (else the unit itself). */
export function lowerUnit(c: number): number {
  if (c < 128) {
    return c >= 65 && c <= 90 ? c + 32 : c;
  }
  const cached = lowerCache[c] ?? 0;
  if (cached !== 0) {
    return cached;
  }
  const l = String.fromCharCode(c).toLowerCase();
  const v = l.length === 1 ? l.charCodeAt(0) : c;
  lowerCache[c] = v;
  return v;
}

// Warm the ASCII part so the hot loops rarely take the slow path.
for (let c = 0; c < 128; c++) {
  charClass(c);
}

/** Sentence punctuation (§8.2): '.', '!', '?', ';'. */
export const C_STOP = 16;

/** Class bits of the ASCII range, read inline by the hot loops. */
export const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  ASCII_CLASS[c] = charClass(c) | (c === 46 || c === 33 || c === 63 || c === 59 ? C_STOP : 0);
}


/** The lower-case key of a word as the tokenizer computes it (for building the vocabulary). */
export function wordKey(word: string): string {
  let s = '';
  for (let i = 0; i < word.length; i++) {
    s += String.fromCharCode(lowerUnit(word.charCodeAt(i)));
  }
  return s;
}


/** Automaton symbol of an ASCII character: digits 0–9, letters 10–35 (either case), anything else 36. */
const SYMBOL = new Uint8Array(128).fill(36);
for (let c = 48; c <= 57; c++) {
  SYMBOL[c] = c - 48;
}
for (let c = 97; c <= 122; c++) {
  SYMBOL[c] = c - 87;
  SYMBOL[c - 32] = c - 87;
}
const SYMBOLS = 37;

/**
 * Class bits (low byte) and automaton symbol (<< 8) of an ASCII character in one entry: the tokenizer's inner loop
 * reads one table per character, not two.
 */
const ASCII_INFO = new Uint16Array(128);
for (let c = 0; c < 128; c++) {
  ASCII_INFO[c] = (ASCII_CLASS[c] ?? 0) | ((SYMBOL[c] ?? 36) << 8);
}

/**
 * The words the lexicon knows, each with a small integer id. Words of ASCII letters and digits (all of them, in
 * practice) sit in a character automaton that the tokenizer steps through as it scans, so a word is recognised
 * with one array read per character and no string, hash or comparison; other words (non-ASCII letters, or the
 * words of an `assertionOf` target added later) are looked up by string.
 */
export class Vocabulary {
  private readonly words: string[] = [];
  private readonly ids = new Map<string, number>();
  /**
   * Transitions: state × symbol → state. State 0 is dead (every transition stays there), state 1 the start. 16-bit
   * entries while the states fit (a few thousand for the policy's lexicon): half the cache lines of 32-bit ones, and
   * the tokenizer reads one per character of every word.
   */
  trans: Int32Array | Uint16Array = new Uint16Array(2 * SYMBOLS);
  /** Word id accepted in each state, or -1. */
  accept = new Int32Array(2).fill(-1);
  /** Word lengths that have a word outside the automaton (checked before the slow lookup). */
  slowLengths = new Uint8Array(0);
  private slow = new Map<string, number>();

  /** The id of a word key, adding it when new. */
  add(key: string): number {
    const known = this.ids.get(key);
    if (known !== undefined) {
      return known;
    }
    const id = this.words.length;
    this.words.push(key);
    this.ids.set(key, id);
    return id;
  }

  /** The id of a word key, or -1. */
  idOf(key: string): number {
    return this.ids.get(key) ?? -1;
  }

  /** The word of an id. */
  word(id: number): string {
    return this.words[id] ?? '';
  }

  get size(): number {
    return this.words.length;
  }

  /** A copy that also knows `keys` (the words of an `assertionOf` target); ids of known words are kept. */
  withWords(keys: readonly string[]): Vocabulary {
    const v = new Vocabulary();
    this.words.forEach((w) => v.add(w));
    v.trans = this.trans;
    v.accept = this.accept;
    v.slow = new Map(this.slow);
    let longest = this.slowLengths.length - 1;
    for (const k of keys) {
      if (v.idOf(k) < 0) {
        v.slow.set(k, v.add(k));
        longest = Math.max(longest, k.length);
      }
    }
    v.slowLengths = new Uint8Array(longest + 1);
    v.slow.forEach((_id, k) => {
      v.slowLengths[k.length] = 1;
    });
    return v;
  }

  /** Builds the automaton; call once after every word was added. */
  seal(): void {
    const trans: number[] = new Array<number>(2 * SYMBOLS).fill(0);
    const accept: number[] = [-1, -1];
    this.slow = new Map();
    this.words.forEach((w, id) => {
      let st = 1;
      let ascii = true;
      for (let k = 0; k < w.length && ascii; k++) {
        const c = w.charCodeAt(k);
        const sym = c < 128 ? (SYMBOL[c] ?? 36) : 36;
        if (sym === 36) {
          ascii = false;
          break;
        }
        let next = trans[st * SYMBOLS + sym] ?? 0;
        if (next === 0) {
          next = accept.length;
          accept.push(-1);
          for (let x = 0; x < SYMBOLS; x++) {
            trans.push(0);
          }
          trans[st * SYMBOLS + sym] = next;
        }
        st = next;
      }
      if (ascii) {
        accept[st] = id;
      } else {
        this.slow.set(w, id);
      }
    });
    this.trans = accept.length <= 0xffff ? Uint16Array.from(trans) : Int32Array.from(trans);
    this.accept = Int32Array.from(accept);
    let longest = 0;
    this.slow.forEach((_id, k) => {
      longest = Math.max(longest, k.length);
    });
    this.slowLengths = new Uint8Array(longest + 1);
    this.slow.forEach((_id, k) => {
      this.slowLengths[k.length] = 1;
    });
  }

  /** The id of text[start, end) lower-cased among the words outside the automaton, or -1. */
  slowLookup(text: string, start: number, end: number): number {
    if (end - start >= this.slowLengths.length || this.slowLengths[end - start] !== 1) {
      return -1;
    }
    return this.slow.get(wordKey(text.slice(start, end))) ?? -1;
  }
}

/** Gap flags: what lies between a token and the one before it. */
export const G_JOIN_ONLY = 1; // only whitespace, hyphens and '/' (a flexible separator, §8.2)
export const G_BREAK = 2; // contains a line break
/** Token flag (in the same byte): the word ends in s and `idS` / `idEs` hold its stems' ids (else they are stale). */
export const G_PLURAL = 4;

/**
 * The words of a text, as parallel arrays (token k spans text[start[k], end[k])), and what the tokenizer saw on
 * the way: every line (start, end before its break, first and last non-space character, -1 when blank) and every
 * sentence punctuation mark, so that laying the text out in sentences needs no second pass over its characters.
 */
export interface Tokens {
  readonly count: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Vocabulary id of the whole word, or -1. */
  readonly id: Int32Array;
  /** When `gap` has G_PLURAL: vocabulary id of the word without a final s, or -1 (plural on a phrase's last word, §8.2). */
  readonly idS: Int32Array;
  /** When `gap` has G_PLURAL: vocabulary id of the word without a final es, or -1. */
  readonly idEs: Int32Array;
  /** G_* flags of the gap before the token, and G_PLURAL. */
  readonly gap: Uint8Array;
  readonly lines: number;
  readonly lineStart: Int32Array;
  readonly lineEnd: Int32Array;
  readonly lineFirst: Int32Array;
  readonly lineLast: Int32Array;
  readonly stops: number;
  /** Positions of '.', '!', '?', ';'. */
  readonly stopAt: Int32Array;
}

interface Scratch {
  start: Int32Array<ArrayBuffer>;
  end: Int32Array<ArrayBuffer>;
  id: Int32Array<ArrayBuffer>;
  idS: Int32Array<ArrayBuffer>;
  idEs: Int32Array<ArrayBuffer>;
  gap: Uint8Array<ArrayBuffer>;
  lineStart: Int32Array<ArrayBuffer>;
  lineEnd: Int32Array<ArrayBuffer>;
  lineFirst: Int32Array<ArrayBuffer>;
  lineLast: Int32Array<ArrayBuffer>;
  stopAt: Int32Array<ArrayBuffer>;
}

let scratch: Scratch = {
  start: new Int32Array(1024),
  end: new Int32Array(1024),
  id: new Int32Array(1024),
  idS: new Int32Array(1024),
  idEs: new Int32Array(1024),
  gap: new Uint8Array(1024),
  lineStart: new Int32Array(256),
  lineEnd: new Int32Array(256),
  lineFirst: new Int32Array(256),
  lineLast: new Int32Array(256),
  stopAt: new Int32Array(256),
};

function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/**
 * Splits a text into words (maximal runs of letters, digits and marks) and looks each up in the vocabulary,
 * recording lines and sentence punctuation on the way. One pass over the characters.
 */
export function tokenize(text: string, vocab: Vocabulary): Tokens {
  const n = text.length;
  // The arrays are reused from call to call (a reading is synchronous and keeps none of them): a 1,000,000-character
  // note would otherwise allocate and zero megabytes per read. No closure here: variables a closure captures leave
  // the registers, and this loop runs once per character.
  let cap = scratch.start.length;
  let start = scratch.start;
  let end = scratch.end;
  let id = scratch.id;
  let idS = scratch.idS;
  let idEs = scratch.idEs;
  let gap = scratch.gap;
  let lineCap = scratch.lineStart.length;
  let lineStart = scratch.lineStart;
  let lineEnd = scratch.lineEnd;
  let lineFirst = scratch.lineFirst;
  let lineLast = scratch.lineLast;
  let stopCap = scratch.stopAt.length;
  let stopAt = scratch.stopAt;
  let count = 0;
  let lines = 0;
  let stops = 0;
  let ls = 0;
  let first = -1;
  let last = -1;
  let gapFlags = G_JOIN_ONLY;
  let gapEmpty = true;
  const trans = vocab.trans;
  const accept = vocab.accept;
  const slow = vocab.slowLengths.length > 0;
  let i = 0;
  for (;;) {
    if (i >= n) {
      break;
    }
    let c = text.charCodeAt(i);
    // class bits in the low byte, and for ASCII the automaton symbol above them
    let k = c < 128 ? (ASCII_INFO[c] ?? 0) : charClass(c);
    if ((k & C_WORD) === 0) {
      gapEmpty = false;
      if ((k & C_BREAK) !== 0) {
        gapFlags |= G_BREAK;
        if (lines === lineCap) {
          lineCap *= 2;
          lineStart = grow(lineStart, lineCap);
          lineEnd = grow(lineEnd, lineCap);
          lineFirst = grow(lineFirst, lineCap);
          lineLast = grow(lineLast, lineCap);
        }
        lineStart[lines] = ls;
        lineEnd[lines] = i;
        lineFirst[lines] = first;
        lineLast[lines] = first < 0 ? -1 : last;
        lines++;
        first = -1;
        // CR LF is one break
        i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
        ls = i;
        continue;
      }
      if ((k & C_SPACE) === 0) {
        if (first < 0) {
          first = i;
        }
        last = i;
        if ((k & C_JOIN) === 0) {
          gapFlags &= ~G_JOIN_ONLY;
        }
        if ((k & C_STOP) !== 0) {
          if (stops === stopCap) {
            stopCap *= 2;
            stopAt = grow(stopAt, stopCap);
          }
          stopAt[stops++] = i;
        }
      }
      i++;
      continue;
    }
    if (count === cap) {
      cap *= 2;
      start = grow(start, cap);
      end = grow(end, cap);
      id = grow(id, cap);
      idS = grow(idS, cap);
      idEs = grow(idEs, cap);
      const g = new Uint8Array(cap);
      g.set(gap);
      gap = g;
    }
    const s = i;
    // step the vocabulary automaton (0 = dead); keep the states one and two characters back (plural s / es)
    let st = 1;
    let st1 = 0;
    let st2 = 0;
    let lc = 0;
    let prev = 0;
    let ascii = true;
    for (;;) {
      prev = lc;
      st2 = st1;
      st1 = st;
      if (c < 128) {
        lc = c;
        st = trans[st * SYMBOLS + (k >> 8)] ?? 0;
      } else {
        lc = 0;
        ascii = false;
        st = 0;
      }
      i++;
      if (i >= n) {
        break;
      }
      c = text.charCodeAt(i);
      k = c < 128 ? (ASCII_INFO[c] ?? 0) : charClass(c);
      if ((k & C_WORD) === 0) {
        break;
      }
    }
    if (first < 0) {
      first = s;
    }
    last = i - 1;
    start[count] = s;
    end[count] = i;
    const plural = (lc === 115 || lc === 83) && i - s >= 2;
    let g = gapEmpty ? 0 : gapFlags;
    if (ascii || !slow) {
      id[count] = accept[st] ?? -1;
      if (plural) {
        idS[count] = accept[st1] ?? -1;
        idEs[count] = prev === 101 || prev === 69 ? (accept[st2] ?? -1) : -1;
        g |= G_PLURAL;
      }
    } else {
      id[count] = vocab.slowLookup(text, s, i);
      if (plural) {
        idS[count] = vocab.slowLookup(text, s, i - 1);
        idEs[count] = prev === 101 || prev === 69 ? vocab.slowLookup(text, s, i - 2) : -1;
        g |= G_PLURAL;
      }
    }
    if (slow && ascii && id[count] === -1 && i - s < vocab.slowLengths.length) {
      // a word added for an assertionOf target
      id[count] = vocab.slowLookup(text, s, i);
      if (plural && idS[count] === -1) {
        idS[count] = vocab.slowLookup(text, s, i - 1);
      }
      if (plural && idEs[count] === -1 && (prev === 101 || prev === 69)) {
        idEs[count] = vocab.slowLookup(text, s, i - 2);
      }
    }
    gap[count] = g;
    count++;
    gapFlags = G_JOIN_ONLY;
    gapEmpty = false;
  }
  // the last line
  if (lines === lineCap) {
    lineCap *= 2;
    lineStart = grow(lineStart, lineCap);
    lineEnd = grow(lineEnd, lineCap);
    lineFirst = grow(lineFirst, lineCap);
    lineLast = grow(lineLast, lineCap);
  }
  lineStart[lines] = ls;
  lineEnd[lines] = n;
  lineFirst[lines] = first;
  lineLast[lines] = first < 0 ? -1 : last;
  lines++;
  scratch = { start, end, id, idS, idEs, gap, lineStart, lineEnd, lineFirst, lineLast, stopAt };
  return { count, start, end, id, idS, idEs, gap, lines, lineStart, lineEnd, lineFirst, lineLast, stops, stopAt };
}

/** True when text[a, b) holds only whitespace. */
export function onlySpace(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    if ((charClass(text.charCodeAt(i)) & C_SPACE) === 0) {
      return false;
    }
  }
  return true;
}

/** text[a, b) without whitespace, apostrophes normalised (for literal separators such as '.' or '+/'). */
export function squeeze(text: string, a: number, b: number): string {
  let s = '';
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if ((charClass(c) & C_SPACE) !== 0) {
      continue;
    }
    s += c === 0x2019 || c === 0x2018 || c === 0x60 ? "'" : String.fromCharCode(c);
  }
  return s;
}
