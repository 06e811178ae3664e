// Finding pseudo-triggers, phrases and triggers in a tokenised text, with the outcome of SPEC §8.2's order of
// matching: pseudo-triggers first (their words are neither mentions nor triggers), then phrases (longest wins
// within a set; sets overlap freely), then triggers in the words no mention covers (longest wins among all
// triggers). All three live in one trie walked once from each word; the order is applied afterwards by dropping
// the candidates that cover words an earlier stage took, which keeps exactly the matches the staged walk would.
import { M_PHRASE, M_PSEUDO, TERMINATION, type MatchPayload, type PhraseKind, type TriggerRule } from './lexicon.js';
import { isColonGap, Matches, type Terminal, type Trie } from './patterns.js';
import { B_LABEL, B_MENTION, B_PSEUDO, type Layout } from './sections.js';
import { G_BREAK, G_PLURAL, type Tokens } from './text.js';

/** A candidate match: tokens i..j (inclusive), its length in characters, what it is. */
export interface Candidate {
  readonly i: number;
  readonly j: number;
  readonly len: number;
  readonly term: Terminal<MatchPayload>;
  /** A trigger's rules after the ': x' choice (§8.3), pooled when several patterns share the span. */
  rules: readonly TriggerRule[];
}

function overlapsAny(s: Candidate, kept: readonly Candidate[]): boolean {
  for (const k of kept) {
    if (s.j >= k.i && s.i <= k.j) {
      return true;
    }
  }
  return false;
}

/**
 * Keeps non-overlapping candidates, the longest first (ties: the leftmost), from candidates sorted by start (§8.2
 * "the longest wins"). Overlaps are resolved chain by chain, so the cost is linear when, as in notes, chains are
 * short.
 */
export function longestFirst(spans: readonly Candidate[]): Candidate[] {
  const out: Candidate[] = [];
  let from = 0;
  let chainEnd = -1;
  const resolve = (to: number): void => {
    if (to - from === 1) {
      out.push(spans[from] as Candidate);
      return;
    }
    const ranked = spans.slice(from, to).sort((a, b) => b.len - a.len || a.i - b.i);
    const kept: Candidate[] = [];
    for (const s of ranked) {
      if (!overlapsAny(s, kept)) {
        kept.push(s);
      }
    }
    kept.sort((a, b) => a.i - b.i);
    for (const k of kept) {
      out.push(k);
    }
  };
  for (let x = 0; x < spans.length; x++) {
    const s = spans[x] as Candidate;
    if (x > from && s.i > chainEnd) {
      resolve(x);
      from = x;
      chainEnd = -1;
    }
    if (s.j > chainEnd) {
      chainEnd = s.j;
    }
  }
  if (spans.length > from) {
    resolve(spans.length);
  }
  return out;
}

/** Every candidate of a text, by type (in order of start). */
export interface Candidates {
  readonly pseudo: Candidate[];
  /** Phrase candidates per set index. */
  readonly phrases: Candidate[][];
  readonly triggers: Candidate[];
}

const FOUND = new Matches<MatchPayload>();
const NONE = new Uint8Array(0);
const NO_RULES: readonly TriggerRule[] = [];

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

/**
 * Walks the tries from every word and sorts what matches. Phrases of sets not in `wanted` are dropped; plural
 * forms count only for phrases. A `: x` trigger form is kept only where it applies (x after a colon, followed by
 * nothing but the sentence's closing punctuation, a comma or the end of its line), and then replaces the plain x.
 */
export function collect(text: string, t: Tokens, lay: Layout, tries: readonly Trie<MatchPayload>[], wanted: Uint8Array): Candidates {
  const pseudo: Candidate[] = [];
  const phrases: Candidate[][] = [];
  const triggers: Candidate[] = [];
  const main = tries[0] as Trie<MatchPayload>;
  const root = main.root;
  const n = t.count;
  for (let i = 0; i < n; i++) {
    const w = t.id[i] ?? -1;
    if ((w < 0 || (root[w] ?? -1) < 0) && ((t.gap[i] ?? 0) & G_PLURAL) === 0 && tries.length === 1) {
      continue; // the common case: this word starts nothing
    }
    let limit = -1;
    for (let x = 0; x < tries.length; x++) {
      const trie = tries[x] as Trie<MatchPayload>;
      if (!trie.mayStart(t, i, true)) {
        continue;
      }
      if (limit < 0) {
        limit = lay.tok1[lay.sentenceOf[i] ?? 0] ?? t.count;
      }
      FOUND.count = 0;
      trie.matchAt(text, t, i, limit, NONE, 0, true, FOUND);
      let lastTriggerJ = -1;
      for (let m = 0; m < FOUND.count; m++) {
        const term = FOUND.terms[m] as Terminal<MatchPayload>;
        const p = term.payload;
        const j = FOUND.ends[m] ?? i;
        if (p.type === M_PHRASE) {
          if ((wanted[p.set] ?? 0) === 0) {
            continue;
          }
          const list = (phrases[p.set] ??= []);
          const prev = list[list.length - 1];
          if (prev !== undefined && prev.i === i && prev.j === j && prev.term.payload.kind === p.kind) {
            continue; // "fevers" as the phrase "fevers" and as "fever" + s
          }
          list.push({ i, j, len: (t.end[j] ?? 0) - (t.start[i] ?? 0), term, rules: NO_RULES });
          continue;
        }
        if ((FOUND.plural[m] ?? 0) !== 0) {
          continue; // triggers and pseudo-triggers take no plural ("not" is not "notes")
        }
        if (p.type === M_PSEUDO) {
          pseudo.push({ i, j, len: (t.end[j] ?? 0) - (t.start[i] ?? 0), term, rules: NO_RULES });
          continue;
        }
        if (term.pattern.colon) {
          const before = i > 0 && isColonGap(text, t.end[i - 1] ?? 0, t.start[i] ?? 0);
          const after = j + 1 >= limit || ((t.gap[j + 1] ?? 0) & G_BREAK) !== 0 || firstMark(text, t.end[j] ?? 0, t.start[j + 1] ?? 0) === 44;
          if (!before || !after) {
            continue;
          }
        }
        const prev = triggers[triggers.length - 1];
        if (lastTriggerJ === j && prev !== undefined) {
          // one span, several patterns: a valid ': x' form replaces the plain x; others pool their rules
          const prevColon = prev.term.pattern.colon;
          if (term.pattern.colon && !prevColon) {
            triggers[triggers.length - 1] = { ...prev, term, rules: p.rules };
          } else if (term.pattern.colon === prevColon) {
            prev.rules = [...prev.rules, ...p.rules];
          }
          continue;
        }
        triggers.push({ i, j, len: (t.end[j] ?? 0) - (t.start[i] ?? 0), term, rules: p.rules });
        lastTriggerJ = j;
      }
    }
  }
  return { pseudo, phrases, triggers };
}

function free(c: Candidate, blocked: Uint8Array, mask: number): boolean {
  for (let k = c.i; k <= c.j; k++) {
    if (((blocked[k] ?? 0) & mask) !== 0) {
      return false;
    }
  }
  return true;
}

/** Pseudo-triggers outside header labels, longest first: marks their words B_PSEUDO. */
export function markPseudo(c: Candidates, blocked: Uint8Array): void {
  for (const s of longestFirst(c.pseudo.filter((x) => free(x, blocked, B_LABEL)))) {
    for (let k = s.i; k <= s.j; k++) {
      blocked[k] = (blocked[k] ?? 0) | B_PSEUDO;
    }
  }
}

/** A phrase occurrence kept for a set, with its assertion flags (FLAG_BIT mask, set later). */
export interface PhraseHit {
  readonly set: number;
  readonly kind: PhraseKind;
  readonly i: number;
  readonly j: number;
  readonly phrase: string;
  flags: number;
}

/**
 * Phrases whose words `mask` leaves free, longest per set. Counted mentions (findings, negating phrases,
 * modalities) mark their words B_MENTION: triggers are not matched there. "Not counted" phrases win their set's
 * longest match and then count for nothing (they are not returned); they do not hide triggers ("family history of
 * cancer and lymphoma": the lymphoma is still the family's).
 */
export function selectPhrases(c: Candidates, blocked: Uint8Array, mask: number): PhraseHit[] {
  const hits: PhraseHit[] = [];
  for (const list of c.phrases) {
    if (list === undefined) {
      continue;
    }
    const open = list.every((x) => free(x, blocked, mask)) ? list : list.filter((x) => free(x, blocked, mask));
    for (const s of longestFirst(open)) {
      const p = s.term.payload;
      if (p.kind === 'not-counted') {
        continue;
      }
      hits.push({ set: p.set, kind: p.kind, i: s.i, j: s.j, phrase: s.term.pattern.text, flags: 0 });
      for (let k = s.i; k <= s.j; k++) {
        blocked[k] = (blocked[k] ?? 0) | B_MENTION;
      }
    }
  }
  hits.sort((a, b) => a.i - b.i || a.set - b.set);
  return hits;
}

/** A trigger occurrence: its rules (category, reach). */
export interface TriggerHit {
  readonly i: number;
  readonly j: number;
  readonly rules: readonly TriggerRule[];
  /** Some rule is a termination term. */
  readonly terminates: boolean;
}

/** Triggers and termination terms in the words no pseudo-trigger, header label or counted mention covers. */
export function selectTriggers(c: Candidates, blocked: Uint8Array): TriggerHit[] {
  const open = c.triggers.filter((x) => free(x, blocked, B_LABEL | B_PSEUDO | B_MENTION));
  return longestFirst(open).map((s) => ({ i: s.i, j: s.j, rules: s.rules, terminates: s.rules.some((r) => r.category === TERMINATION) }));
}

/** True when a trigger holds `category` or is a termination. */
export function stops(tr: TriggerHit, category: number): boolean {
  if (tr.terminates) {
    return true;
  }
  for (const r of tr.rules) {
    if (r.category === category) {
      return true;
    }
  }
  return false;
}

