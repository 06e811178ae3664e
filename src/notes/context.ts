// The assertion of a mention (SPEC §8.3, ConText): each trigger casts a scope forward to the end of its sentence or
// backward to its start, cut at the first termination term and at the first other trigger of the same category,
// and at the trigger's reach (backward 5 words; prior/previous/s/p/status post 4 words forward). A mention any part
// of which lies in a scope takes the trigger's flag.
import { TERMINATION, type TriggerRule } from './lexicon.js';
import { stops, type TriggerHit } from './match.js';
import type { Layout } from './sections.js';

/** Anything with a token range that can take flags. */
export interface Flaggable {
  readonly i: number;
  readonly j: number;
  /** FLAG_BIT mask (bit = 1 << category). */
  flags: number;
}

/** Last token a forward rule of trigger x reaches (< first token after it when it reaches nothing). */
function forwardEnd(triggers: readonly TriggerHit[], x: number, x1: number, rule: TriggerRule, last: number): number {
  const tr = triggers[x] as TriggerHit;
  let hi = rule.forward === Infinity ? last : Math.min(last, tr.j + rule.forward);
  for (let y = x + 1; y < x1; y++) {
    const other = triggers[y] as TriggerHit;
    if (stops(other, rule.category)) {
      return Math.min(hi, other.i - 1);
    }
    if (other.i > hi) {
      break;
    }
  }
  return hi;
}

/** First token a backward rule of trigger x reaches. */
function backwardStart(triggers: readonly TriggerHit[], x: number, x0: number, rule: TriggerRule, first: number): number {
  const tr = triggers[x] as TriggerHit;
  const lo = rule.backward === Infinity ? first : Math.max(first, tr.i - rule.backward);
  for (let y = x - 1; y >= x0; y--) {
    const other = triggers[y] as TriggerHit;
    if (stops(other, rule.category)) {
      return Math.max(lo, other.j + 1);
    }
    if (other.j < lo) {
      break;
    }
  }
  return lo;
}

/**
 * Sets the flags of `items` (sorted by first token) from `triggers` (sorted, non-overlapping). Items and triggers
 * never share a word (§8.2: triggers are matched only where no mention is).
 */
export function assertFlags(items: readonly Flaggable[], triggers: readonly TriggerHit[], lay: Layout): void {
  let x0 = 0;
  let m0 = 0;
  while (m0 < items.length && x0 < triggers.length) {
    const item = items[m0] as Flaggable;
    const sentence = lay.sentenceOf[item.i] ?? 0;
    const first = lay.tok0[sentence] ?? 0;
    const last = (lay.tok1[sentence] ?? 0) - 1;
    let m1 = m0 + 1;
    while (m1 < items.length && (items[m1] as Flaggable).i <= last) {
      m1++;
    }
    while (x0 < triggers.length && (triggers[x0] as TriggerHit).i < first) {
      x0++;
    }
    let x1 = x0;
    while (x1 < triggers.length && (triggers[x1] as TriggerHit).i <= last) {
      x1++;
    }
    for (let x = x0; x < x1; x++) {
      const tr = triggers[x] as TriggerHit;
      for (const rule of tr.rules) {
        if (rule.category === TERMINATION) {
          continue;
        }
        const bit = 1 << rule.category;
        if (rule.forward >= 0) {
          const hi = forwardEnd(triggers, x, x1, rule, last);
          for (let m = m0; m < m1; m++) {
            const it = items[m] as Flaggable;
            if (it.i <= hi && it.j > tr.j) {
              it.flags |= bit;
            }
          }
        }
        if (rule.backward >= 0) {
          const lo = backwardStart(triggers, x, x0, rule, first);
          for (let m = m0; m < m1; m++) {
            const it = items[m] as Flaggable;
            if (it.j >= lo && it.i < tr.i) {
              it.flags |= bit;
            }
          }
        }
      }
    }
    m0 = m1;
  }
}
