// Phrases, triggers and headers as word sequences, and the trie that finds them from any token (SPEC §8.2).
// A pattern keeps what the words alone do not say: which separators are flexible, which punctuation must be there
// literally ("4+/5", "Hodgkin's"), and which words match only in capitals ("PT", "HIV", "NSAIDs").
import { C_JOIN, C_SPACE, C_WORD, G_JOIN_ONLY, charClass, onlySpace, squeeze, wordKey, type Tokens, type Vocabulary } from './text.js';

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
  return words.length === 0 ? null : { text, words, caps, gaps, colon };
}

/** A pattern at a trie node, with what it means. */
export interface Terminal<P> {
  readonly pattern: Pattern;
  readonly payload: P;
}

interface Node<P> {
  next: Map<number, number> | null;
  terminals: Terminal<P>[] | null;
}

/**
 * A word trie. The root is an array indexed by word id (one array read per token: most tokens start nothing);
 * deeper levels are small maps.
 */
export class Trie<P> {
  private readonly nodes: Node<P>[] = [{ next: null, terminals: null }];
  private root = new Int32Array(0);

  add(pattern: Pattern, payload: P): void {
    let node = 0;
    for (const w of pattern.words) {
      const n = this.nodes[node] as Node<P>;
      n.next ??= new Map();
      let child = n.next.get(w);
      if (child === undefined) {
        child = this.nodes.length;
        this.nodes.push({ next: null, terminals: null });
        n.next.set(w, child);
      }
      node = child;
    }
    const end = this.nodes[node] as Node<P>;
    (end.terminals ??= []).push({ pattern, payload });
  }

  /** Builds the root index; call once the vocabulary is complete. */
  seal(vocabSize: number): void {
    this.root = new Int32Array(vocabSize).fill(-1);
    const top = this.nodes[0]?.next;
    top?.forEach((child, w) => {
      this.root[w] = child;
    });
  }

  /**
   * Every pattern that matches tokens i..j (same sentence, none blocked), as `found(i, j, terminal)`. A plural s/es
   * is accepted on the last word when `plural` (phrases; not triggers, or "not" would match "notes"). Separators and
   * capitals are checked here.
   */
  matchAt(
    text: string,
    t: Tokens,
    i: number,
    limit: number,
    blocked: Uint8Array,
    blockMask: number,
    plural: boolean,
    found: (i: number, j: number, terminal: Terminal<P>) => void,
  ): void {
    const first = t.id[i] ?? -1;
    let node = first >= 0 ? (this.root[first] ?? -1) : -1;
    if (plural) {
      this.pluralAt(text, t, i, i, 0, true, found);
    }
    let j = i;
    while (node >= 0) {
      const n = this.nodes[node] as Node<P>;
      if (n.terminals !== null) {
        this.report(text, t, i, j, n.terminals, found);
      }
      if (n.next === null) {
        return;
      }
      j++;
      if (j >= limit || ((blocked[j] ?? 0) & blockMask) !== 0) {
        return;
      }
      if (plural) {
        this.pluralAt(text, t, i, j, node, false, found);
      }
      const w = t.id[j] ?? -1;
      node = w >= 0 ? (n.next.get(w) ?? -1) : -1;
    }
  }

  private pluralAt(
    text: string,
    t: Tokens,
    i: number,
    j: number,
    node: number,
    atRoot: boolean,
    found: (i: number, j: number, terminal: Terminal<P>) => void,
  ): void {
    const s = t.idS[j] ?? -1;
    if (s < 0) {
      return;
    }
    const es = t.idEs[j] ?? -1;
    for (const stem of es >= 0 ? [s, es] : [s]) {
      const child = atRoot ? (this.root[stem] ?? -1) : ((this.nodes[node] as Node<P>).next?.get(stem) ?? -1);
      const terminals = child >= 0 ? (this.nodes[child] as Node<P>).terminals : null;
      if (terminals !== null) {
        this.report(text, t, i, j, terminals, found);
      }
    }
  }

  private report(text: string, t: Tokens, i: number, j: number, terminals: Terminal<P>[], found: (i: number, j: number, terminal: Terminal<P>) => void): void {
    for (const term of terminals) {
      if (fits(text, t, i, term.pattern)) {
        found(i, j, term);
      }
    }
  }
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
  for (let w = 0; w < p.caps.length; w++) {
    const stem = p.caps[w];
    if (stem === null || stem === undefined) {
      continue;
    }
    const s = t.start[i + w] ?? 0;
    if (text.slice(s, s + stem.length) !== stem) {
      return false;
    }
  }
  return true;
}

/** True when text[a, b) is whitespace and a single ':' (the colon before a `: none` trigger). */
export function isColonGap(text: string, a: number, b: number): boolean {
  const colon = text.indexOf(':', a);
  return colon >= a && colon < b && onlySpace(text, a, colon) && onlySpace(text, colon + 1, b);
}
