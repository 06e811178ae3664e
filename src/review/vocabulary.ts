import type { Coding } from 'fhir/r4.js';
import { policyLookup } from '../policy/policy-lookup.js';
import type { Policy } from '../policy/policy-types.js';

/**
 * The words a reviewer reads instead of ids (issue #14: "the most frequent missing facts … with the policy's
 * words"): a fact's `words`, a criterion's `label` (or its clause), an override reason's `display` as the
 * cards offered it. All of it is data (policy/, cards/); nothing here knows what the ids mean.
 */
export interface ReviewVocabulary {
  /** The policy's words for a fact or criterion id; the id itself when the policy has none (an older version's id). */
  words(id: string): string;
  /** The display the cards gave an override reason; the code itself when unknown, "no reason given" for none. */
  overrideReason(code: string | null, system: string | null): string;
  /** "Cohere … (version 1.1)": which policy the words come from. */
  readonly policy: string;
}

/**
 * @param policy - the loaded policy
 * @param overrideReasons - the override reasons the cards offer (cards/determination.json)
 */
export function reviewVocabulary(policy: Policy, overrideReasons: readonly Coding[]): ReviewVocabulary {
  const { words } = policyLookup(policy);
  return {
    words: (id) => words.get(id) ?? id,
    overrideReason: (code, system) => {
      if (code === null) {
        return 'no reason given';
      }
      const known = overrideReasons.find((r) => r.code === code && (system === null || r.system === undefined || r.system === system));
      return known?.display ?? code;
    },
    policy: `${policy.name} (version ${policy.version})`,
  };
}
