import { leafFacts } from '../engine/evaluate.js';
import type { FactDefinition, Policy } from './policy-types.js';

/** What every request looks up in a policy, derived once per loaded policy rather than once per request. */
export interface PolicyLookup {
  readonly facts: ReadonlyMap<string, FactDefinition>;
  /** Every fact a clinician can attest: the leaves of both trees (SPEC §5), in tree order. */
  readonly askable: readonly string[];
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
    };
    lookups.set(policy, lookup);
  }
  return lookup;
}
