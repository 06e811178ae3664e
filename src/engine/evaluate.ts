import { childrenOf, type Criterion } from './criterion.js';
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
    case 'all':
      return kleeneAll(criterion.of, (c) => evaluate(c, facts));
    case 'any':
      return kleeneAny(criterion.of, (c) => evaluate(c, facts));
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
  if (criterion.kind === 'fact') {
    if (!into.includes(criterion.fact)) {
      into.push(criterion.fact);
    }
  } else {
    childrenOf(criterion).forEach((c) => leafFacts(c, into, seen));
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

/**
 * The tree's value with one fact set to `v`. A subtree that does not read the fact keeps the value its
 * trace already holds, so a trial re-evaluates only the nodes above the fact's leaves.
 */
function valueWith(node: Criterion, traced: CriterionTrace, fact: string, v: Truth): Truth {
  if (!readsOf(node).has(fact)) {
    return traced.value;
  }
  const children = traced.children ?? [];
  switch (node.kind) {
    case 'all':
    case 'any': {
      // Children and their traces pair up by position; the combinator still stops at the first decisive one.
      const combine = node.kind === 'all' ? kleeneAll : kleeneAny;
      let i = 0;
      return combine(node.of, (child) => {
        const childTrace = children[i++];
        return childTrace ? valueWith(child, childTrace, fact, v) : 'unknown';
      });
    }
    case 'not':
      return kleeneNot(children[0] ? valueWith(node.of, children[0], fact, v) : 'unknown');
    case 'documented':
      return documented(children[0] ? valueWith(node.of, children[0], fact, v) : 'unknown');
    case 'fact':
      return v;
  }
}

/**
 * SPEC §6 `missing` for one tree: every unknown leaf fact that, set alone to true or to false with every
 * other leaf unchanged, makes the tree's value known. Empty when the tree is already known.
 * @param tree - the indications or non-indications tree
 * @param facts - leaf values
 * @param traced - the tree's trace over the same facts, when the caller has it already
 */
export function decisiveUnknowns(tree: Criterion, facts: FactValues, traced: CriterionTrace = trace(tree, facts)): string[] {
  if (traced.value !== 'unknown') {
    return [];
  }
  return leavesOf(tree).filter(
    (id) =>
      (facts.get(id) ?? 'unknown') === 'unknown' &&
      (valueWith(tree, traced, id, 'true') !== 'unknown' || valueWith(tree, traced, id, 'false') !== 'unknown'),
  );
}
