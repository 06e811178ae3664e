import type { Criterion } from '../policy/policy-types.js';
import { documented, kleeneAll, kleeneAny, kleeneNot, type Truth } from './truth.js';

/** How every criterion of a tree evaluated: the determination's explanation. */
export interface CriterionTrace {
  readonly kind: Criterion['kind'];
  readonly value: Truth;
  readonly id?: string;
  readonly label?: string;
  readonly clause?: string;
  readonly fact?: string;
  readonly children?: readonly CriterionTrace[];
}

/** Values of the leaf facts a tree reads. */
export type FactValues = ReadonlyMap<string, Truth>;

/**
 * Evaluates a criterion in Kleene three-valued logic (SPEC §5). Shared subtrees are evaluated once per
 * call through the memo.
 * @param criterion - the (sub)tree
 * @param facts - leaf values; a fact the map lacks is unknown
 * @param memo - per-evaluation cache for shared nodes
 */
export function evaluate(criterion: Criterion, facts: FactValues, memo: Map<Criterion, Truth> = new Map()): Truth {
  const cached = memo.get(criterion);
  if (cached !== undefined) {
    return cached;
  }
  let value: Truth;
  switch (criterion.kind) {
    case 'all':
      value = kleeneAll(criterion.of.map((c) => evaluate(c, facts, memo)));
      break;
    case 'any':
      value = kleeneAny(criterion.of.map((c) => evaluate(c, facts, memo)));
      break;
    case 'not':
      value = kleeneNot(evaluate(criterion.of, facts, memo));
      break;
    case 'documented':
      value = documented(evaluate(criterion.of, facts, memo));
      break;
    case 'fact':
      value = facts.get(criterion.fact) ?? 'unknown';
      break;
  }
  memo.set(criterion, value);
  return value;
}

/**
 * The evaluated tree with every node's value, for explanation and the card.
 * @param criterion - the tree
 * @param facts - leaf values
 */
export function trace(criterion: Criterion, facts: FactValues, memo: Map<Criterion, Truth> = new Map()): CriterionTrace {
  const value = evaluate(criterion, facts, memo);
  const common = {
    kind: criterion.kind,
    value,
    ...(criterion.id !== undefined ? { id: criterion.id } : {}),
    ...(criterion.label !== undefined ? { label: criterion.label } : {}),
    ...(criterion.clause !== undefined ? { clause: criterion.clause } : {}),
  };
  switch (criterion.kind) {
    case 'all':
    case 'any':
      return { ...common, children: criterion.of.map((c) => trace(c, facts, memo)) };
    case 'not':
    case 'documented':
      return { ...common, children: [trace(criterion.of, facts, memo)] };
    case 'fact':
      return { ...common, fact: criterion.fact };
  }
}

/** Fact ids read by a tree, in first-seen order. */
export function leafFacts(criterion: Criterion, into: string[] = [], seen: Set<Criterion> = new Set()): string[] {
  if (seen.has(criterion)) {
    return into;
  }
  seen.add(criterion);
  switch (criterion.kind) {
    case 'all':
    case 'any':
      criterion.of.forEach((c) => leafFacts(c, into, seen));
      break;
    case 'not':
    case 'documented':
      leafFacts(criterion.of, into, seen);
      break;
    case 'fact':
      if (!into.includes(criterion.fact)) {
        into.push(criterion.fact);
      }
      break;
  }
  return into;
}

/** Named criteria of a tree, in tree order, each once. */
export function namedCriteria(criterion: Criterion, into: Criterion[] = []): Criterion[] {
  if (criterion.id !== undefined && !into.includes(criterion)) {
    into.push(criterion);
  }
  switch (criterion.kind) {
    case 'all':
    case 'any':
      criterion.of.forEach((c) => namedCriteria(c, into));
      break;
    case 'not':
    case 'documented':
      namedCriteria(criterion.of, into);
      break;
    case 'fact':
      break;
  }
  return into;
}

/**
 * SPEC §6 `missing` for one tree: every unknown leaf fact that, set alone to true or to false with every
 * other leaf unchanged, makes the tree's value known. Empty when the tree is already known.
 * @param tree - the indications or non-indications tree
 * @param facts - leaf values
 */
export function decisiveUnknowns(tree: Criterion, facts: FactValues): string[] {
  if (evaluate(tree, facts) !== 'unknown') {
    return [];
  }
  return leafFacts(tree).filter((id) => {
    if ((facts.get(id) ?? 'unknown') !== 'unknown') {
      return false;
    }
    return (['true', 'false'] as const).some((v) => {
      const changed = new Map(facts);
      changed.set(id, v);
      return evaluate(tree, changed) !== 'unknown';
    });
  });
}
