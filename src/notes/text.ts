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

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

function mix(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

/** The lower-case key of a word as the tokenizer computes it (for building the vocabulary). */
export function wordKey(word: string): string {
  let s = '';
  for (let i = 0; i < word.length; i++) {
    s += String.fromCharCode(lowerUnit(word.charCodeAt(i)));
  }
  return s;
}

function hashOf(key: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) {
    h = mix(h, key.charCodeAt(i));
  }
  return h;
}

/**
 * The words the lexicon knows, each with a small integer id, in an open-addressing table keyed by the same hash
 * the tokenizer computes while it scans, so a token is looked up without building a string.
 */
export class Vocabulary {
  private readonly words: string[] = [];
  private readonly ids = new Map<string, number>();
  private slots = new Int32Array(0);
  private mask = 0;

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
    keys.forEach((k) => v.add(k));
    v.seal();
    return v;
  }

  /** Builds the lookup table; call once after every word was added. */
  seal(): void {
    let size = 16;
    while (size < this.words.length * 4) {
      size *= 2;
    }
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.words.forEach((w, id) => {
      let i = hashOf(w) & this.mask;
      while (this.slots[i] !== -1) {
        i = (i + 1) & this.mask;
      }
      this.slots[i] = id;
    });
  }

  /** The id of text[start, end) lower-cased, whose hash is `h`, or -1. */
  lookup(text: string, start: number, end: number, h: number): number {
    const len = end - start;
    let i = h & this.mask;
    for (;;) {
      const id = this.slots[i] ?? -1;
      if (id === -1) {
        return -1;
      }
      const w = this.words[id] ?? '';
      if (w.length === len && hashOf(w) === h) {
        let k = 0;
        while (k < len && lowerUnit(text.charCodeAt(start + k)) === w.charCodeAt(k)) {
          k++;
        }
        if (k === len) {
          return id;
        }
      }
      i = (i + 1) & this.mask;
    }
  }
}

/** Gap flags: what lies between a token and the one before it. */
export const G_JOIN_ONLY = 1; // only whitespace, hyphens and '/' (a flexible separator, §8.2)
export const G_BREAK = 2; // contains a line break

/** The words of a text, as parallel arrays (token k spans text[start[k], end[k])). */
export interface Tokens {
  readonly count: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Vocabulary id of the whole word, or -1. */
  readonly id: Int32Array;
  /** Vocabulary id of the word without a final s, or -1 (plural on the last word of a phrase, §8.2). */
  readonly idS: Int32Array;
  /** Vocabulary id of the word without a final es, or -1. */
  readonly idEs: Int32Array;
  /** G_* flags of the gap before the token. */
  readonly gap: Uint8Array;
}

function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** Splits a text into words (maximal runs of letters, digits and marks) and looks each up in the vocabulary. */
export function tokenize(text: string, vocab: Vocabulary): Tokens {
  const n = text.length;
  let cap = Math.max(16, (n >> 3) + 16);
  let start = new Int32Array(cap);
  let end = new Int32Array(cap);
  let id = new Int32Array(cap);
  let idS = new Int32Array(cap);
  let idEs = new Int32Array(cap);
  let gap = new Uint8Array(cap);
  let count = 0;
  let gapFlags = G_JOIN_ONLY;
  let gapEmpty = true;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    let k = c < 128 ? (classCache[c] ?? 128) - 128 : charClass(c);
    if ((k & C_WORD) === 0) {
      if ((k & (C_SPACE | C_JOIN)) === 0) {
        gapFlags &= ~G_JOIN_ONLY;
      }
      if ((k & C_BREAK) !== 0) {
        gapFlags |= G_BREAK;
      }
      gapEmpty = false;
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
    let h = FNV_OFFSET;
    let h1 = h;
    let h2 = h;
    let last = 0;
    let prev = 0;
    do {
      const lc = c < 128 ? (c >= 65 && c <= 90 ? c + 32 : c) : lowerUnit(c);
      h2 = h1;
      h1 = h;
      h = mix(h, lc);
      prev = last;
      last = lc;
      i++;
      if (i >= n) {
        break;
      }
      c = text.charCodeAt(i);
      k = c < 128 ? (classCache[c] ?? 128) - 128 : charClass(c);
    } while ((k & C_WORD) !== 0);
    start[count] = s;
    end[count] = i;
    id[count] = vocab.lookup(text, s, i, h);
    const len = i - s;
    if (last === 115 && len >= 2) {
      idS[count] = vocab.lookup(text, s, i - 1, h1);
      idEs[count] = prev === 101 && len >= 3 ? vocab.lookup(text, s, i - 2, h2) : -1;
    } else {
      idS[count] = -1;
      idEs[count] = -1;
    }
    gap[count] = gapEmpty ? 0 : gapFlags;
    count++;
    gapFlags = G_JOIN_ONLY;
    gapEmpty = false;
  }
  return { count, start, end, id, idS, idEs, gap };
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
