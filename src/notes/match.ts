// Finding pseudo-triggers, phrases and triggers in a tokenised text, in the order of SPEC §8.2: pseudo-triggers
// first (their words are neither mentions nor triggers), then phrases (longest wins within a set; sets overlap
// freely), then triggers in the words no mention covers (longest wins among all triggers).
import { TERMINATION, type Lexicon, type PhraseKind, type PhrasePayload, type TriggerRule } from './lexicon.js';
import { isColonGap, type Pattern, type Terminal, type Trie } from './patterns.js';
import { B_LABEL, B_MENTION, B_PSEUDO, type Layout } from './sections.js';
import { G_BREAK, type Tokens } from './text.js';

/** A match: tokens i..j (inclusive), its length in characters, and what it is. */
export interface Span<P> {
  readonly i: number;
  readonly j: number;
  readonly len: number;
  readonly payload: P;
  readonly pattern: Pattern;
}

/**
 * Keeps non-overlapping spans, the longest first (ties: the leftmost), from spans sorted by start (§8.2 "the
 * longest wins"). Overlapping spans are resolved in chains, so the cost is linear when, as in notes, chains are
 * short.
 */
export function longestFirst<P>(spans: readonly Span<P>[]): Span<P>[] {
  const out: Span<P>[] = [];
  let chain: Span<P>[] = [];
  let chainEnd = -1;
  const resolve = (): void => {
    if (chain.length === 1) {
      out.push(chain[0] as Span<P>);
      return;
    }
    const ranked = [...chain].sort((a, b) => b.len - a.len || a.i - b.i);
    const kept: Span<P>[] = [];
    for (const s of ranked) {
      if (kept.every((k) => s.j < k.i || s.i > k.j)) {
        kept.push(s);
      }
    }
    kept.sort((a, b) => a.i - b.i);
    out.push(...kept);
  };
  for (const s of spans) {
    if (chain.length > 0 && s.i > chainEnd) {
      resolve();
      chain = [];
    }
    chain.push(s);
    chainEnd = Math.max(chainEnd, s.j);
  }
  if (chain.length > 0) {
    resolve();
  }
  return out;
}

function spanOf<P>(t: Tokens, i: number, j: number, term: Terminal<P>): Span<P> {
  return { i, j, len: (t.end[j] ?? 0) - (t.start[i] ?? 0), payload: term.payload, pattern: term.pattern };
}

/** Pseudo-triggers: marks their words B_PSEUDO. */
export function markPseudo(text: string, t: Tokens, lay: Layout, lex: Lexicon, blocked: Uint8Array): void {
  const found: Span<null>[] = [];
  const add = (a: number, b: number, term: Terminal<null>): void => {
    found.push(spanOf(t, a, b, term));
  };
  for (let i = 0; i < t.count; i++) {
    if (((blocked[i] ?? 0) & B_LABEL) !== 0) {
      continue;
    }
    const limit = lay.tok1[lay.sentenceOf[i] ?? 0] ?? t.count;
    lex.pseudo.matchAt(text, t, i, limit, blocked, B_LABEL, false, add);
  }
  for (const s of longestFirst(found)) {
    for (let k = s.i; k <= s.j; k++) {
      blocked[k] = (blocked[k] ?? 0) | B_PSEUDO;
    }
  }
}

/** A phrase occurrence kept for a set. */
export interface PhraseHit {
  readonly set: number;
  readonly kind: PhraseKind;
  readonly i: number;
  readonly j: number;
  readonly phrase: string;
}

/**
 * Phrases of the sets in `wanted` (indexed by set; the modality set included when wanted), longest per set.
 * Counted mentions (findings, negating phrases, modalities) mark their words B_MENTION: triggers are not matched
 * there. "Not counted" phrases win their set's longest match and then count for nothing; they do not hide
 * triggers ("family history of cancer and lymphoma": the lymphoma is still the family's).
 */
export function findPhrases(
  text: string,
  t: Tokens,
  lay: Layout,
  phrases: Trie<PhrasePayload>,
  blocked: Uint8Array,
  wanted: Uint8Array,
  mask: number,
): PhraseHit[] {
  const bySet: Span<PhrasePayload>[][] = [];
  const add = (a: number, b: number, term: Terminal<PhrasePayload>): void => {
    const set = term.payload.set;
    if ((wanted[set] ?? 0) === 0) {
      return;
    }
    const list = (bySet[set] ??= []);
    const last = list[list.length - 1];
    if (last !== undefined && last.i === a && last.j === b && last.payload.kind === term.payload.kind) {
      return; // "fevers" as the phrase "fevers" and as "fever" + s
    }
    list.push(spanOf(t, a, b, term));
  };
  for (let i = 0; i < t.count; i++) {
    if (((blocked[i] ?? 0) & mask) !== 0) {
      continue;
    }
    const limit = lay.tok1[lay.sentenceOf[i] ?? 0] ?? t.count;
    phrases.matchAt(text, t, i, limit, blocked, mask, true, add);
  }
  const hits: PhraseHit[] = [];
  bySet.forEach((list) => {
    for (const s of longestFirst(list)) {
      hits.push({ set: s.payload.set, kind: s.payload.kind, i: s.i, j: s.j, phrase: s.pattern.text });
      if (s.payload.kind !== 'not-counted') {
        for (let k = s.i; k <= s.j; k++) {
          blocked[k] = (blocked[k] ?? 0) | B_MENTION;
        }
      }
    }
  });
  hits.sort((a, b) => a.i - b.i || a.set - b.set);
  return hits;
}

/** A trigger occurrence: its rules (category, reach) and its sentence. */
export interface TriggerHit {
  readonly i: number;
  readonly j: number;
  readonly rules: readonly TriggerRule[];
}

/**
 * Triggers and termination terms in the words no pseudo-trigger, header label or counted mention covers. A `: x`
 * form applies (backward only) when x follows a colon and is followed by nothing but the sentence's closing
 * punctuation, a comma or the end of its line; elsewhere the plain x (if a trigger) applies.
 */
export function findTriggers(text: string, t: Tokens, lay: Layout, lex: Lexicon, blocked: Uint8Array): TriggerHit[] {
  const found: Span<readonly TriggerRule[]>[] = [];
  const here: { j: number; colon: boolean; span: Span<readonly TriggerRule[]> }[] = [];
  let limit = 0;
  const add = (a: number, b: number, term: Terminal<{ rules: readonly TriggerRule[] }>): void => {
    if (term.pattern.colon) {
      const before = a > 0 && isColonGap(text, t.end[a - 1] ?? 0, t.start[a] ?? 0);
      const after = b + 1 >= limit || ((t.gap[b + 1] ?? 0) & G_BREAK) !== 0 || firstMark(text, t.end[b] ?? 0, t.start[b + 1] ?? 0) === 44;
      if (!before || !after) {
        return;
      }
    }
    here.push({ j: b, colon: term.pattern.colon, span: spanOf(t, a, b, { pattern: term.pattern, payload: term.payload.rules }) });
  };
  for (let i = 0; i < t.count; i++) {
    if ((blocked[i] ?? 0) !== 0) {
      continue;
    }
    limit = lay.tok1[lay.sentenceOf[i] ?? 0] ?? t.count;
    here.length = 0;
    lex.triggers.matchAt(text, t, i, limit, blocked, B_LABEL | B_PSEUDO | B_MENTION, false, add);
    if (here.length === 0) {
      continue;
    }
    if (here.length === 1 && !(here[0] as (typeof here)[number]).colon) {
      found.push((here[0] as (typeof here)[number]).span);
      continue;
    }
    // At one span, a valid ': x' form replaces the plain x; several patterns of one span pool their rules.
    const ends = [...new Set(here.map((h) => h.j))];
    for (const j of ends) {
      const atJ = here.filter((h) => h.j === j);
      const colon = atJ.some((h) => h.colon);
      const chosen = atJ.filter((h) => h.colon === colon);
      const first = chosen[0];
      if (first !== undefined) {
        const rules = chosen.length === 1 ? first.span.payload : chosen.flatMap((h) => h.span.payload);
        found.push({ ...first.span, payload: rules });
      }
    }
  }
  return longestFirst(found).map((s) => ({ i: s.i, j: s.j, rules: s.payload }));
}

/** The first non-space character code in text[a, b), or -1. */
function firstMark(text: string, a: number, b: number): number {
  for (let p = a; p < b; p++) {
    const c = text.charCodeAt(p);
    if (c !== 32 && c !== 9) {
      return c;
    }
  }
  return -1;
}

/** True when a trigger's rules hold `category` or a termination. */
export function stops(rules: readonly TriggerRule[], category: number): boolean {
  return rules.some((r) => r.category === category || r.category === TERMINATION);
}
