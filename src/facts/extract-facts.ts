import type { QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer } from 'fhir/r4.js';
import type { Truth } from '../engine/truth.js';
import type { SourceType } from '../fhir/patient-record.js';
import { policyLookup } from '../policy/policy-lookup.js';
import type { AnswerRules, FactDefinition } from '../policy/policy-types.js';
import { NOTHING, evaluateRule, type Evidence, type FactInput, type RuleContext, type RuleResult } from './evidence-rules.js';

export type { FactInput };
import { DAY_MS, isoDay, onOrAfter, parseFhirDate } from './fhir-dates.js';
import { referenceOf, statusOf } from './record-index.js';

/** A clinician's answer to a fact (SPEC §2 Answers). */
export interface Answer {
  readonly value: boolean;
  /** The QuestionnaireResponse that holds it. */
  readonly reference: string;
  /** ISO date it was authored. */
  readonly authored: string;
}

/** A fact's value and why: the coded reading, the answer that may override it, and what was unreadable. */
export interface FactResult {
  readonly id: string;
  readonly value: Truth;
  /** The value from the record (codes and notes), before any answer. */
  readonly coded: Truth;
  /** Records behind the value read from the record (for a span that falls short, the records that were counted). */
  readonly evidence: readonly Evidence[];
  /** Mentions in notes that deny an ask fact, when they made it false (SPEC §8.4). */
  readonly negating: readonly Evidence[];
  readonly answer?: Answer;
  /** Sources the fact depends on that could not be read (only when its value is not true). */
  readonly unreadable: readonly SourceType[];
  /** A measurement to show whatever the value (the documented span of conservative care). */
  readonly detail?: string;
}

/** Policy-level error: a fact definition that cannot be evaluated (cycles, unknown ids). */
export class FactDefinitionError extends Error {
  override readonly name = 'FactDefinitionError';
  /**
   * @param factId - the fact whose definition is wrong
   * @param message - what is wrong
   */
  constructor(
    readonly factId: string,
    message: string,
  ) {
    super(`${factId}: ${message}`);
  }
}

/**
 * Finds the clinician's answers (SPEC §2): completed or amended QuestionnaireResponses for this policy
 * authored within the window before now; items at any depth whose linkId is a fact id and whose answer is
 * a boolean; the most recently authored answer wins.
 * @param rules - the policy's answer rules
 * @param responses - the patient's QuestionnaireResponses that count
 * @param now - epoch ms
 */
export function collectAnswers(rules: AnswerRules, responses: readonly QuestionnaireResponse[], now: number): Map<string, Answer & { at: number }> {
  const answers = new Map<string, Answer & { at: number }>();
  const since = now - rules.withinDays * DAY_MS;
  for (const qr of responses) {
    const authored = parseFhirDate(qr.authored);
    const questionnaire = typeof qr.questionnaire === 'string' ? qr.questionnaire : '';
    if (
      !authored ||
      !onOrAfter(authored, since) ||
      !rules.statuses.includes(statusOf(qr) ?? '') ||
      !questionnaire.includes(rules.questionnaireContains)
    ) {
      continue;
    }
    for (const [linkId, value] of booleanAnswers(qr.item)) {
      const previous = answers.get(linkId);
      if (!previous || authored.start > previous.at) {
        answers.set(linkId, { value, reference: referenceOf(qr), authored: isoDay(authored.start), at: authored.start });
      }
    }
  }
  return answers;
}

function* booleanAnswers(items: readonly QuestionnaireResponseItem[] | undefined): Generator<[string, boolean]> {
  for (const item of Array.isArray(items) ? items : []) {
    if (!item || typeof item !== 'object') {
      continue;
    }
    const answers: readonly QuestionnaireResponseItemAnswer[] = Array.isArray(item.answer) ? item.answer : [];
    const boolean = answers.find((a) => typeof a?.valueBoolean === 'boolean');
    if (typeof item.linkId === 'string' && boolean && typeof boolean.valueBoolean === 'boolean') {
      yield [item.linkId.trim(), boolean.valueBoolean];
    }
    yield* booleanAnswers(item.item);
    for (const a of answers) {
      yield* booleanAnswers(a?.item);
    }
  }
}

/**
 * The value of a fact from its rule results, before answers (SPEC §2, §8.4): evidence (coded or in a note) makes
 * it true; otherwise an ask fact is false when notes read whole deny it, else unknown; a closed-world fact is false
 * unless a source was unreadable or its `unknownWhen` rule holds (notes never make a closed-world fact false). A
 * `requires` rule that is false makes the fact false.
 */
function codedValue(def: FactDefinition, requires: RuleResult | undefined, evidence: RuleResult | undefined, unknownWhen: RuleResult | undefined): Truth {
  if (requires?.value === 'false') {
    return 'false';
  }
  if (evidence?.value === 'true') {
    return 'true';
  }
  if (def.basis === 'ask') {
    return evidence?.negating !== undefined && evidence.negating.length > 0 && requires?.value !== 'unknown' ? 'false' : 'unknown';
  }
  if (requires?.value === 'unknown') {
    return 'unknown';
  }
  if (evidence?.value === 'unknown' || (unknownWhen !== undefined && unknownWhen.value !== 'false')) {
    return 'unknown';
  }
  return 'false';
}

/** Sources either rule could not read, each once. */
function unreadableOf(requires: RuleResult | undefined, evidence: RuleResult | undefined): readonly SourceType[] {
  const a = requires?.unreadable ?? NOTHING;
  const b = evidence?.unreadable ?? NOTHING;
  if (b.length === 0) {
    return a;
  }
  return a.length === 0 ? b : [...new Set([...a, ...b])];
}

/**
 * Computes every fact of the policy for one order. Pure and synchronous: the record is already gathered.
 * @param input - the policy, the patient's indexed record, the order and "now"
 */
export function extractFacts(input: FactInput): ReadonlyMap<string, FactResult> {
  const { policy } = input;
  const definitions = policyLookup(policy).facts;
  const answers = collectAnswers(policy.answers, input.index.questionnaireResponses, input.now);
  const results = new Map<string, FactResult>();
  // Facts read other facts; without a cycle no chain of them is longer than the number of facts, so a deeper
  // one is a cycle. A depth count finds it without a set of facts in progress on every request.
  let depth = 0;

  const ctx: RuleContext = {
    policy,
    valueSets: input.valueSets,
    index: input.index,
    order: input.order,
    draftOrders: input.draftOrders,
    now: input.now,
    lexicon: input.lexicon,
    fact: (id) => {
      const r = compute(id);
      return { value: r.value, evidence: r.value === 'true' ? r.evidence : [], unreadable: r.unreadable };
    },
  };

  function compute(id: string): FactResult {
    const done = results.get(id);
    if (done) {
      return done;
    }
    const def = definitions.get(id);
    if (!def) {
      throw new FactDefinitionError(id, 'no such fact in the policy');
    }
    if (depth >= definitions.size) {
      throw new FactDefinitionError(id, 'fact definitions refer to each other in a cycle');
    }
    depth++;
    const requires = def.requires ? evaluateRule(def.requires, ctx) : undefined;
    const evidence = def.evidence ? evaluateRule(def.evidence, ctx) : undefined;
    const unknownWhen = def.unknownWhen ? evaluateRule(def.unknownWhen, ctx) : undefined;
    const coded = codedValue(def, requires, evidence, unknownWhen);
    const answer = answers.get(id);
    const value: Truth = answer ? (answer.value ? 'true' : 'false') : coded;
    // Built by assignment, sharing one empty list: this runs for every fact of every request.
    const result: { -readonly [K in keyof FactResult]: FactResult[K] } = {
      id,
      value,
      coded,
      evidence: evidence?.evidence ?? NOTHING,
      negating: coded === 'false' && def.basis === 'ask' ? (evidence?.negating ?? NOTHING) : NOTHING,
      unreadable: value === 'true' ? NOTHING : unreadableOf(requires, evidence),
    };
    if (answer) {
      result.answer = { value: answer.value, reference: answer.reference, authored: answer.authored };
    }
    if (evidence?.detail !== undefined) {
      result.detail = evidence.detail;
    }
    depth--;
    results.set(id, result);
    return result;
  }

  for (const def of policy.facts) {
    compute(def.id);
  }
  return results;
}
