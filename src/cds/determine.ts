import type { ServiceRequest } from 'fhir/r4.js';
import { decide, type Outcome } from '../engine/decide.js';
import type { Truth } from '../engine/truth.js';
import type { Evidence } from '../facts/evidence-rules.js';
import { extractFacts, type FactResult } from '../facts/extract-facts.js';
import { parseFhirDate } from '../facts/fhir-dates.js';
import { noteTextsOf, type NoteTexts } from '../facts/note-texts.js';
import { referenceOf, type RecordIndex } from '../facts/record-index.js';
import { CODED_SOURCE_TYPES, SOURCE_TYPES, type PatientRecord, type SourceFailure, type SourceType } from '../fhir/patient-record.js';
import type { LoadedPolicy } from '../policy/load-policy.js';

/** One item of `determination.evidence` (SPEC §7, §8.4). */
export interface DeterminationEvidence {
  readonly fact: string;
  readonly reference: string;
  readonly assertion?: 'affirmed' | 'negated';
  readonly span?: { readonly in: string; readonly start: number; readonly end: number };
}

/** A determination for one order: the decision, every fact behind it, and what could not be checked. */
export interface Determination {
  readonly order: ServiceRequest;
  readonly orderReference: string;
  /** "Now" for every window (SPEC §1). */
  readonly now: number;
  readonly outcome: Outcome;
  readonly facts: ReadonlyMap<string, FactResult>;
  /** Criteria (ind.*, non.*) and leaf facts that evaluated true (SPEC §7). */
  readonly satisfied: readonly string[];
  /**
   * What stands behind every true fact and every answered fact (fact, FHIR reference), and, from notes, the
   * assertion and the span of the matched phrase (SPEC §8.4) — denials included for ask facts notes made false.
   */
  readonly evidence: readonly DeterminationEvidence[];
  readonly unchecked: readonly { readonly type: SourceType; readonly failure: SourceFailure }[];
  /**
   * No coded source could be read at all (SPEC §7: coverage is then indeterminate). The notes are an added
   * source (SPEC §8.1): read or not, they neither cause nor prevent this.
   */
  readonly noSourceReadable: boolean;
  /** The texts of the patient's notes (SPEC §8.1), shared by every order of the request, and what was not read. */
  readonly notes: NoteTexts;
}

/**
 * SPEC §1: "now" is the order's authoredOn when present, else the time the request was received.
 * @param order - the draft order
 * @param receivedAt - epoch ms of the request
 */
export function nowFor(order: ServiceRequest, receivedAt: number): number {
  return parseFhirDate(order.authoredOn)?.start ?? receivedAt;
}

/**
 * Decides one order against the policy. Pure and synchronous: the record is already gathered.
 * @param loaded - the policy and its value sets
 * @param record - the patient's record
 * @param index - the record's counted, dated view (shared across the request's orders)
 * @param order - the in-scope draft order
 * @param draftOrders - every draft order of the request (a planned injection is evidence)
 * @param receivedAt - epoch ms of the request
 */
export function determine(
  loaded: LoadedPolicy,
  record: PatientRecord,
  index: RecordIndex,
  order: ServiceRequest,
  draftOrders: readonly ServiceRequest[],
  receivedAt: number,
): Determination {
  const { policy, valueSets } = loaded;
  const now = nowFor(order, receivedAt);
  const facts = extractFacts({ policy, valueSets, lexicon: loaded.lexicon, index, order, draftOrders, now });
  const values = new Map<string, Truth>();
  for (const f of facts.values()) {
    values.set(f.id, f.value);
  }
  const outcome = decide(policy, values);
  const trueFacts = policy.facts.filter((f) => facts.get(f.id)?.value === 'true').map((f) => f.id);
  const evidence = policy.facts.flatMap((def) => {
    const f = facts.get(def.id);
    if (!f) {
      return [];
    }
    if (f.answer) {
      return [{ fact: f.id, reference: f.answer.reference }];
    }
    if (f.value === 'true') {
      return f.evidence.map((e) => evidenceItem(f.id, e));
    }
    return f.negating.map((e) => evidenceItem(f.id, e));
  });
  // From the index, not the raw sources: a prescription whose Medication could not be read counts (SPEC §4.1).
  const unchecked = SOURCE_TYPES.flatMap((type) => {
    const failure = index.failure(type);
    return failure !== undefined ? [{ type, failure }] : [];
  });
  return {
    order,
    orderReference: referenceOf(order),
    now,
    outcome,
    facts,
    satisfied: [...outcome.satisfiedCriteria, ...trueFacts],
    evidence: dedupeEvidence(evidence),
    unchecked,
    noSourceReadable: CODED_SOURCE_TYPES.every((type) => record.sources[type].failure !== undefined),
    notes: noteTextsOf(index),
  };
}

function evidenceItem(fact: string, e: Evidence): DeterminationEvidence {
  return e.note ? { fact, reference: e.reference, assertion: e.note.assertion, span: e.note.span } : { fact, reference: e.reference };
}

function dedupeEvidence(list: DeterminationEvidence[]): DeterminationEvidence[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const key = e.span ? `${e.fact}|${e.reference}|${e.span.in}|${e.span.start}` : `${e.fact}|${e.reference}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
