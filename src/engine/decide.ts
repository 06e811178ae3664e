import type { Criterion } from './criterion.js';
import { decisiveUnknowns, trace, type CriterionTrace, type FactValues } from './evaluate.js';
import type { Truth } from './truth.js';

export type Decision = 'meets-criteria' | 'does-not-meet-criteria' | 'documentation-needed';

/** The two trees of a policy (SPEC §5). */
export interface DecisionTrees {
  readonly indications: Criterion;
  readonly nonIndications: Criterion;
}

/** The decision with its explanation. */
export interface Outcome {
  readonly decision: Decision;
  readonly indications: Truth;
  readonly nonIndications: Truth;
  /** Named criteria below the roots that evaluated true, in tree order. */
  readonly satisfiedCriteria: readonly string[];
  /** Questions worth asking (SPEC §6); empty unless documentation is needed. */
  readonly missing: readonly string[];
  readonly trace: { readonly indications: CriterionTrace; readonly nonIndications: CriterionTrace };
}

/**
 * SPEC §6: does-not-meet when a non-indication holds or no indication can; meets when an indication holds
 * and no non-indication does; documentation-needed otherwise.
 */
export function decisionOf(ind: Truth, non: Truth): Decision {
  if (non === 'true' || ind === 'false') {
    return 'does-not-meet-criteria';
  }
  if (ind === 'true' && non === 'false') {
    return 'meets-criteria';
  }
  return 'documentation-needed';
}

/**
 * Evaluates both trees over the facts and decides.
 * @param trees - the policy's indications and non-indications
 * @param facts - every leaf fact's value
 */
export function decide(trees: DecisionTrees, facts: FactValues): Outcome {
  const traced = { indications: trace(trees.indications, facts), nonIndications: trace(trees.nonIndications, facts) };
  const ind = traced.indications.value;
  const non = traced.nonIndications.value;
  const decision = decisionOf(ind, non);
  // A named criterion may be shared by both trees ("no red flag documented" reads ind.red-flag): list it once.
  const satisfied = new Set<string>();
  const collect = (node: CriterionTrace, root: boolean): void => {
    if (!root && node.id !== undefined && node.value === 'true') {
      satisfied.add(node.id);
    }
    node.children?.forEach((c) => collect(c, false));
  };
  collect(traced.indications, true);
  collect(traced.nonIndications, true);
  const satisfiedCriteria = [...satisfied];
  const missing =
    decision === 'documentation-needed'
      ? [...new Set([...decisiveUnknowns(trees.indications, facts, traced.indications), ...decisiveUnknowns(trees.nonIndications, facts, traced.nonIndications)])]
      : [];
  return {
    decision,
    indications: ind,
    nonIndications: non,
    satisfiedCriteria,
    missing,
    trace: traced,
  };
}
