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
 * Evaluates a criterion in Kleene three-valued logic (SPEC §5). The trees are small, so a shared subtree
 * is simply evaluated again: cheaper than any cache.
 * @param criterion - the (sub)tree
 * @param facts - leaf values; a fact the map lacks is unknown
 */
export function evaluate(criterion: Criterion, facts: FactValues): Truth {
  switch (criterion.kind) {
    case 'all': {
      // kleeneAll / kleeneAny written out: this runs for every node of every trial of SPEC §6 `missing`.
      let sawUnknown = false;
      for (const c of criterion.of) {
        const v = evaluate(c, facts);
        if (v === 'false') {
          return 'false';
        }
        sawUnknown ||= v === 'unknown';
      }
      return sawUnknown ? 'unknown' : 'true';
    }
    case 'any': {
      let sawUnknown = false;
      for (const c of criterion.of) {
        const v = evaluate(c, facts);
        if (v === 'true') {
          return 'true';
        }
        sawUnknown ||= v === 'unknown';
      }
      return sawUnknown ? 'unknown' : 'false';
    }
    case 'not':
      return kleeneNot(evaluate(criterion.of, facts));
    case 'documented':
      return documented(evaluate(criterion.of, facts));
    case 'fact':
      return facts.get(criterion.fact) ?? 'unknown';
  }
}

/**
 * The evaluated tree with every node's value, for explanation and the card, in one bottom-up pass.
 * @param criterion - the tree
 * @param facts - leaf values
 */
export function trace(criterion: Criterion, facts: FactValues): CriterionTrace {
  let value: Truth;
  let children: CriterionTrace[] | undefined;
  switch (criterion.kind) {
    case 'all':
      children = criterion.of.map((c) => trace(c, facts));
      value = kleeneAll(children, (c) => c.value);
      break;
    case 'any':
      children = criterion.of.map((c) => trace(c, facts));
      value = kleeneAny(children, (c) => c.value);
      break;
    case 'not':
      children = [trace(criterion.of, facts)];
      value = kleeneNot(children[0]?.value ?? 'unknown');
      break;
    case 'documented':
      children = [trace(criterion.of, facts)];
      value = documented(children[0]?.value ?? 'unknown');
      break;
    case 'fact':
      value = facts.get(criterion.fact) ?? 'unknown';
      break;
  }
  // Built by assignment rather than object spreads: this runs for every node of every request.
  const node: { -readonly [K in keyof CriterionTrace]: CriterionTrace[K] } = { kind: criterion.kind, value };
  if (criterion.id !== undefined) {
    node.id = criterion.id;
  }
  if (criterion.label !== undefined) {
    node.label = criterion.label;
  }
  if (criterion.clause !== undefined) {
    node.clause = criterion.clause;
  }
  if (children !== undefined) {
    node.children = children;
  }
  if (criterion.kind === 'fact') {
    node.fact = criterion.fact;
  }
  return node;
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

const leaves = new WeakMap<Criterion, readonly string[]>();

/** leafFacts of a tree, kept per tree: a loaded policy's trees never change. */
function leavesOf(tree: Criterion): readonly string[] {
  let list = leaves.get(tree);
  if (!list) {
    list = leafFacts(tree);
    leaves.set(tree, list);
  }
  return list;
}

const factsUnder = new WeakMap<Criterion, ReadonlySet<string>>();

/** The fact ids a subtree reads, kept per node. */
function readsOf(node: Criterion): ReadonlySet<string> {
  let set = factsUnder.get(node);
  if (!set) {
    set = new Set(leavesOf(node));
    factsUnder.set(node, set);
  }
  return set;
}

/** Every node's value, without short-circuits, so that a trial can reuse what a changed fact cannot reach. */
function valuesOf(node: Criterion, facts: FactValues, into: Map<Criterion, Truth>): Truth {
  let value: Truth;
  switch (node.kind) {
    case 'all':
      value = kleeneAll(node.of.map((c) => valuesOf(c, facts, into)));
      break;
    case 'any':
      value = kleeneAny(node.of.map((c) => valuesOf(c, facts, into)));
      break;
    case 'not':
      value = kleeneNot(valuesOf(node.of, facts, into));
      break;
    case 'documented':
      value = documented(valuesOf(node.of, facts, into));
      break;
    case 'fact':
      value = facts.get(node.fact) ?? 'unknown';
      break;
  }
  into.set(node, value);
  return value;
}

/** The tree's value with one fact set to `v`: subtrees that do not read the fact keep their known value. */
function valueWith(node: Criterion, fact: string, v: Truth, base: ReadonlyMap<Criterion, Truth>): Truth {
  if (!readsOf(node).has(fact)) {
    return base.get(node) ?? 'unknown';
  }
  switch (node.kind) {
    case 'all':
      return kleeneAll(node.of, (c) => valueWith(c, fact, v, base));
    case 'any':
      return kleeneAny(node.of, (c) => valueWith(c, fact, v, base));
    case 'not':
      return kleeneNot(valueWith(node.of, fact, v, base));
    case 'documented':
      return documented(valueWith(node.of, fact, v, base));
    case 'fact':
      return v;
  }
}

/**
 * SPEC §6 `missing` for one tree: every unknown leaf fact that, set alone to true or to false with every
 * other leaf unchanged, makes the tree's value known. Empty when the tree is already known.
 * @param tree - the indications or non-indications tree
 * @param facts - leaf values
 */
export function decisiveUnknowns(tree: Criterion, facts: FactValues): string[] {
  const base = new Map<Criterion, Truth>();
  if (valuesOf(tree, facts, base) !== 'unknown') {
    return [];
  }
  // Each trial re-evaluates only the nodes above the fact's leaves; every other node keeps its value.
  return leavesOf(tree).filter(
    (id) =>
      (facts.get(id) ?? 'unknown') === 'unknown' &&
      (valueWith(tree, id, 'true', base) !== 'unknown' || valueWith(tree, id, 'false', base) !== 'unknown'),
  );
}
