import { namedCriteria } from '../engine/criterion.js';
import { leafFacts } from '../engine/evaluate.js';
import type { FactDefinition, Policy } from './policy-types.js';

/** What every request looks up in a policy, derived once per loaded policy rather than once per request. */
export interface PolicyLookup {
  readonly facts: ReadonlyMap<string, FactDefinition>;
  /** Every fact a clinician can attest: the leaves of both trees (SPEC §5), in tree order. */
  readonly askable: readonly string[];
  /** Plain words for every fact (the policy's words) and named criterion (its label, else its clause), by id. */
  readonly words: ReadonlyMap<string, string>;
}

const lookups = new WeakMap<Policy, PolicyLookup>();

/**
 * The policy's fact definitions by id and its askable facts. A policy is immutable once loaded, so the
 * result is kept for as long as the policy object lives.
 * @param policy - the loaded policy
 */
export function policyLookup(policy: Policy): PolicyLookup {
  let lookup = lookups.get(policy);
  if (!lookup) {
    lookup = {
      facts: new Map(policy.facts.map((f) => [f.id, f])),
      askable: [...new Set([...leafFacts(policy.indications), ...leafFacts(policy.nonIndications)])],
      words: wordsOf(policy),
    };
    lookups.set(policy, lookup);
  }
  return lookup;
}

function wordsOf(policy: Policy): Map<string, string> {
  const words = new Map(policy.facts.map((f) => [f.id, f.words]));
  for (const c of namedCriteria(policy.indications, policy.nonIndications)) {
    if (c.id !== undefined && !words.has(c.id)) {
      words.set(c.id, c.label ?? c.clause ?? c.id);
    }
  }
  return words;
}
