// Phrases, triggers and headers as word sequences, and the trie that finds them from any token (SPEC §8.2).
// A pattern keeps what the words alone do not say: which separators are flexible, which punctuation must be there
// literally ("4+/5", "Hodgkin's"), and which words match only in capitals ("PT", "HIV", "NSAIDs").
import { C_JOIN, C_SPACE, C_WORD, G_JOIN_ONLY, G_PLURAL, charClass, onlySpace, squeeze, wordKey, type Tokens, type Vocabulary } from './text.js';

/** A lexicon phrase compiled to word ids. */
export interface Pattern {
  /** The phrase as the lexicon writes it. */
  readonly text: string;
  readonly words: readonly number[];
  /** Per word: the exact-case stem it must begin with (a word written in capitals), or null. */
  readonly caps: readonly (string | null)[];
  /** Per gap between words: null when any run of whitespace, hyphens and '/' matches; else the literal. */
  readonly gaps: readonly (string | null)[];
  /** Written with a leading ':' (the `: none` / `: no` trigger forms of §8.3). */
  readonly colon: boolean;
  /** Some word is written in capitals. */
  readonly hasCaps: boolean;
}

/** The exact-case stem of a word written in capitals (two or more letters, no lower case but a plural s). */
function capsStem(word: string): string | null {
  let upper = 0;
  let lowerAt = -1;
  let lowers = 0;
  for (let i = 0; i < word.length; i++) {
    const ch = word.charAt(i);
    if (ch !== ch.toLowerCase()) {
      upper++;
    } else if (ch !== ch.toUpperCase()) {
      lowers++;
      lowerAt = i;
    }
  }
  if (upper < 2) {
    return null;
  }
  if (lowers === 0) {
    return word;
  }
  if (lowers === 1 && lowerAt === word.length - 1 && word.charAt(lowerAt) === 's') {
    return word.slice(0, -1);
  }
  return null;
}

/**
 * Splits a phrase into words and separators. `capitals` turns on the capitals rule (phrases and modalities; §8.3
 * triggers and §8.2 headers are case-insensitive).
 */
export function parsePattern(text: string, vocab: Vocabulary, capitals: boolean): Pattern | null {
  const words: number[] = [];
  const caps: (string | null)[] = [];
  const gaps: (string | null)[] = [];
  let colon = false;
  let i = 0;
  let lastEnd = -1;
  while (i < text.length) {
    if ((charClass(text.charCodeAt(i)) & C_WORD) === 0) {
      i++;
      continue;
    }
    const s = i;
    while (i < text.length && (charClass(text.charCodeAt(i)) & C_WORD) !== 0) {
      i++;
    }
    const word = text.slice(s, i);
    if (lastEnd < 0) {
      colon = text.slice(0, s).includes(':');
    } else {
      let flexible = true;
      for (let g = lastEnd; g < s; g++) {
        const k = charClass(text.charCodeAt(g));
        if ((k & C_WORD) === 0 && (k & (C_SPACE | C_JOIN)) === 0) {
          flexible = false;
        }
      }
      gaps.push(flexible ? null : squeeze(text, lastEnd, s));
    }
    words.push(vocab.add(wordKey(word)));
    caps.push(capitals ? capsStem(word) : null);
    lastEnd = i;
  }
  return words.length === 0 ? null : { text, words, caps, gaps, colon, hasCaps: caps.some((c) => c !== null) };
}

/** A pattern at a trie node, with what it means. */
export interface Terminal<P> {
  readonly pattern: Pattern;
  readonly payload: P;
}

/** Matches found from one token: end tokens and terminals, reused from token to token (no allocation). */
export class Matches<P> {
  count = 0;
  readonly ends: number[] = [];
  readonly terms: Terminal<P>[] = [];
  /** 1 when the last word matched with a plural s/es. */
  readonly plural: number[] = [];

  push(j: number, term: Terminal<P>, plural: number): void {
    this.ends[this.count] = j;
    this.terms[this.count] = term;
    this.plural[this.count] = plural;
    this.count++;
  }
}

/**
 * A word trie in flat arrays: the root is indexed by word id (one array read per token: most tokens start
 * nothing); the other edges live in one open-addressing table keyed by (node, word), so a step is a multiply and a
 * probe or two, without a Map.
 */
export class Trie<P> {
  /** Building: per node, child by word. Dropped by `seal`. */
  private building: Map<number, number>[] = [new Map()];
  private terminalsOf: Terminal<P>[][] = [[]];
  /** Node of each first word, -1 when no pattern starts with it. */
  root = new Int32Array(0);
  private edgeNode = new Int32Array(0);
  private edgeWord = new Int32Array(0);
  private edgeChild = new Int32Array(0);
  private edgeMask = 0;
  /** Per node: 1 when it has children. */
  private inner = new Uint8Array(0);
  private terms: (Terminal<P>[] | null)[] = [];

  add(pattern: Pattern, payload: P): void {
    let node = 0;
    for (const w of pattern.words) {
      const edges = this.building[node] as Map<number, number>;
      let child = edges.get(w);
      if (child === undefined) {
        child = this.building.length;
        this.building.push(new Map());
        this.terminalsOf.push([]);
        edges.set(w, child);
      }
      node = child;
    }
    (this.terminalsOf[node] as Terminal<P>[]).push({ pattern, payload });
  }

  /** Builds the lookup arrays; call once the vocabulary is complete. */
  seal(vocabSize: number): void {
    const nodes = this.building.length;
    this.root = new Int32Array(vocabSize).fill(-1);
    this.inner = new Uint8Array(nodes);
    this.terms = this.terminalsOf.map((t) => (t.length > 0 ? t : null));
    let edges = 0;
    this.building.forEach((m, node) => {
      if (node > 0) {
        edges += m.size;
      }
      this.inner[node] = m.size > 0 ? 1 : 0;
    });
    let size = 16;
    while (size < edges * 3) {
      size *= 2;
    }
    this.edgeNode = new Int32Array(size).fill(-1);
    this.edgeWord = new Int32Array(size);
    this.edgeChild = new Int32Array(size);
    this.edgeMask = size - 1;
    this.building.forEach((m, node) => {
      m.forEach((child, w) => {
        if (node === 0) {
          this.root[w] = child;
          return;
        }
        let h = edgeHash(node, w) & this.edgeMask;
        while (this.edgeNode[h] !== -1) {
          h = (h + 1) & this.edgeMask;
        }
        this.edgeNode[h] = node;
        this.edgeWord[h] = w;
        this.edgeChild[h] = child;
      });
    });
  }

  private child(node: number, w: number): number {
    if (node === 0) {
      return this.root[w] ?? -1;
    }
    let h = edgeHash(node, w) & this.edgeMask;
    for (;;) {
      const at = this.edgeNode[h] ?? -1;
      if (at === -1) {
        return -1;
      }
      if (at === node && this.edgeWord[h] === w) {
        return this.edgeChild[h] ?? -1;
      }
      h = (h + 1) & this.edgeMask;
    }
  }

  /** True when some pattern may start at token i (a cheap test before `matchAt`). */
  mayStart(t: Tokens, i: number, plural: boolean): boolean {
    const w = t.id[i] ?? -1;
    if (w >= 0 && (this.root[w] ?? -1) >= 0) {
      return true;
    }
    if (!plural || ((t.gap[i] ?? 0) & G_PLURAL) === 0) {
      return false;
    }
    const s = t.idS[i] ?? -1;
    const es = t.idEs[i] ?? -1;
    return (s >= 0 && (this.root[s] ?? -1) >= 0) || (es >= 0 && (this.root[es] ?? -1) >= 0);
  }

  /**
   * Appends to `out` every pattern that matches tokens i..j (j < limit, none blocked by `mask`). A plural s/es is
   * accepted on the last word when `plural` (phrases; not triggers, or "not" would match "notes"). Separators and
   * capitals are checked here.
   */
  matchAt(text: string, t: Tokens, i: number, limit: number, blocked: Uint8Array, mask: number, plural: boolean, out: Matches<P>): void {
    // at each length, the exact words first, then a plural last word (so an exact spelling names the match)
    const first = t.id[i] ?? -1;
    let node = first >= 0 ? (this.root[first] ?? -1) : -1;
    let terminals = node >= 0 ? (this.terms[node] ?? null) : null;
    if (terminals !== null) {
      this.report(text, t, i, i, terminals, out, 0);
    }
    if (plural) {
      this.pluralAt(text, t, i, i, 0, out);
    }
    let j = i;
    while (node >= 0 && this.inner[node] === 1) {
      j++;
      if (j >= limit || ((blocked[j] ?? 0) & mask) !== 0) {
        return;
      }
      const w = t.id[j] ?? -1;
      const next = w >= 0 ? this.child(node, w) : -1;
      terminals = next >= 0 ? (this.terms[next] ?? null) : null;
      if (terminals !== null) {
        this.report(text, t, i, j, terminals, out, 0);
      }
      if (plural) {
        this.pluralAt(text, t, i, j, node, out);
      }
      node = next;
    }
  }

  private pluralAt(text: string, t: Tokens, i: number, j: number, node: number, out: Matches<P>): void {
    if (((t.gap[j] ?? 0) & G_PLURAL) === 0) {
      return;
    }
    const s = t.idS[j] ?? -1;
    if (s >= 0) {
      this.pluralStem(text, t, i, j, node, s, out);
    }
    const es = t.idEs[j] ?? -1;
    if (es >= 0) {
      this.pluralStem(text, t, i, j, node, es, out);
    }
  }

  private pluralStem(text: string, t: Tokens, i: number, j: number, node: number, stem: number, out: Matches<P>): void {
    const child = this.child(node, stem);
    const terminals = child >= 0 ? (this.terms[child] ?? null) : null;
    if (terminals !== null) {
      this.report(text, t, i, j, terminals, out, 1);
    }
  }

  private report(text: string, t: Tokens, i: number, j: number, terminals: Terminal<P>[], out: Matches<P>, plural: number): void {
    for (const term of terminals) {
      if (fits(text, t, i, term.pattern)) {
        out.push(j, term, plural);
      }
    }
  }
}

function edgeHash(node: number, w: number): number {
  return Math.imul(node, 0x9e3779b1) ^ Math.imul(w, 0x85ebca6b);
}

/** Separators and capitals of a pattern whose words matched from token i. */
function fits(text: string, t: Tokens, i: number, p: Pattern): boolean {
  for (let g = 0; g < p.gaps.length; g++) {
    const lit = p.gaps[g];
    const k = i + g + 1;
    if (lit === null || lit === undefined) {
      if (((t.gap[k] ?? 0) & G_JOIN_ONLY) === 0) {
        return false;
      }
    } else if (squeeze(text, t.end[k - 1] ?? 0, t.start[k] ?? 0) !== lit) {
      return false;
    }
  }
  if (!p.hasCaps) {
    return true;
  }
  for (let w = 0; w < p.caps.length; w++) {
    const stem = p.caps[w];
    if (stem === null || stem === undefined) {
      continue;
    }
    const s = t.start[i + w] ?? 0;
    for (let k = 0; k < stem.length; k++) {
      if (text.charCodeAt(s + k) !== stem.charCodeAt(k)) {
        return false;
      }
    }
  }
  return true;
}

/** True when text[a, b) is whitespace and a single ':' (the colon before a `: none` trigger). */
export function isColonGap(text: string, a: number, b: number): boolean {
  const colon = text.indexOf(':', a);
  return colon >= a && colon < b && onlySpace(text, a, colon) && onlySpace(text, colon + 1, b);
}
