import type { Extension } from 'fhir/r4.js';
import { isThisServices, partsOf } from '../crd/coverage-information.js';
import { DAY_MS } from '../facts/fhir-dates.js';
import type { Policy } from '../policy/policy-types.js';
import type { DeterminationRecord, EvidenceRecord, InvocationRecord } from '../store/record-store.js';
import type { Action } from './cds-types.js';
import type { HookRequest } from './hook-request.js';
import type { Evidence } from '../facts/evidence-rules.js';
import type { Determination } from './determine.js';
import type { DecidedOrder, OrderHookResult } from './order-hook.js';
import { quotedNotes, sameQuote } from './render-card.js';

/** What the HTTP edge knows of a call beyond the hook's result. */
export interface InvocationContext {
  /** A fresh uuid for the record. */
  readonly id: string;
  /** Epoch ms the request was received. */
  readonly receivedAt: number;
  /** The CDS service id called. */
  readonly service: string;
  /** The validated request. */
  readonly request: HookRequest;
  /** The verified client's issuer (client authentication on). */
  readonly clientIss?: string;
  /** How long the hook took, in ms. */
  readonly durationMs: number;
  /** Epoch ms until which the questionnaires the cards link to are served (their day). */
  readonly questionnairesUntil?: number;
  /** The response's JSON text as it is sent (JSON.stringify of result.response), so it is serialised once. */
  readonly responseText?: string;
}

/**
 * The record of one hook call (issue #13 §2; CRD found-11, found-37): what was decided for each order, on which
 * evidence, under which policy version, with the coverage-assertion-id and satisfied-pa-id the EHR was given
 * and the response exactly as sent. Pure: built from the validated request and the hook's result.
 *
 * What never goes in: the access token (fhirAuthorization), the prefetch, the draft orders' own content beyond
 * their references and codes, and note text beyond the quotes a card showed. The request is read only for its
 * hook, hookInstance and patient id. The questionnaires the cards link to travel with it (their spec: the missing
 * facts and what the record holds about each askable fact, for the EHR's view), to be kept for their day.
 * @param policy - the policy the call was decided under
 * @param context - the call: ids, times, service, client
 * @param result - what the hook answered
 */
export function invocationRecord(policy: Policy, context: InvocationContext, result: OrderHookResult): InvocationRecord {
  return {
    id: context.id,
    receivedAt: context.receivedAt,
    hook: context.request.hook,
    hookInstance: context.request.hookInstance,
    service: context.service,
    ...(context.clientIss !== undefined ? { clientIss: context.clientIss } : {}),
    patientId: context.request.context.patientId,
    orders: result.orders,
    policy: { id: policy.id, version: policy.version },
    determinations: result.decided.map((d) => determinationRecord(policy, d)),
    response: result.response,
    ...(context.responseText !== undefined ? { responseText: context.responseText } : {}),
    unreadable: result.unchecked,
    fhirRequests: result.fhirRequests,
    durationMs: context.durationMs,
    // Written with the call, in the same statement, so that the links on its cards work on every replica.
    ...(result.questionnaires.length > 0
      ? { questionnaires: result.questionnaires.map((q) => ({ id: q.id, payload: q.spec, expiresAt: context.questionnairesUntil ?? context.receivedAt + DAY_MS })) }
      : {}),
  };
}

/** One decided order as recorded. */
export function determinationRecord(policy: Policy, decided: DecidedOrder): DeterminationRecord {
  const det = decided.determination;
  const { decision } = det.outcome;
  const coverage = coverageOf(decided.action);
  const coding = det.order.code?.coding?.find((c) => typeof c.code === 'string' && c.code !== '');
  const unread = Object.entries(det.notes.unread).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0);
  return {
    order: det.orderReference,
    ...(coding?.code !== undefined ? { orderCode: `${coding.system ?? ''}|${coding.code}` } : {}),
    decision,
    ...(decided.card !== undefined ? { cardUuid: decided.card.uuid } : {}),
    satisfied: det.satisfied,
    missing: det.outcome.missing,
    evidence: evidenceRecords(det),
    ...coverage,
    mainReason: mainReason(policy, decided),
    ...(unread.length > 0 ? { notesUnread: Object.fromEntries(unread) } : {}),
  };
}

/**
 * The evidence items of one determination as recorded. A clinician's answer is evidence from the
 * QuestionnaireResponse that holds it; a note mention keeps its assertion and span (SPEC §8.4) and, when the card
 * quoted its sentence, the quote — no other note text; anything else is coded data. Each fact's mentions are
 * indexed once: a fact can hold hundreds of them.
 */
function evidenceRecords(det: Determination): EvidenceRecord[] {
  const quotesOf = new Map<string, { readonly bySpan: Map<string, Evidence>; readonly quoted: readonly Evidence[] }>();
  const spanKey = (reference: string, span: { readonly in: string; readonly start: number; readonly end: number }): string => `${reference} ${span.in} ${span.start} ${span.end}`;
  const quotes = (fact: string): { readonly bySpan: Map<string, Evidence>; readonly quoted: readonly Evidence[] } => {
    let found = quotesOf.get(fact);
    if (found === undefined) {
      const f = det.facts.get(fact);
      const bySpan = new Map<string, Evidence>();
      for (const e of [...(f?.evidence ?? []), ...(f?.negating ?? [])]) {
        if (e.note !== undefined) {
          bySpan.set(spanKey(e.reference, e.note.span), e);
        }
      }
      found = { bySpan, quoted: f ? [...quotedNotes(f.evidence), ...quotedNotes(f.negating)] : [] };
      quotesOf.set(fact, found);
    }
    return found;
  };
  return det.evidence.map((e): EvidenceRecord => {
    const answer = det.facts.get(e.fact)?.answer;
    if (answer !== undefined && answer.reference === e.reference) {
      return { fact: e.fact, reference: e.reference, source: 'answer' };
    }
    const { span, assertion } = e;
    if (span === undefined) {
      return { fact: e.fact, reference: e.reference, source: 'code' };
    }
    const { bySpan, quoted } = quotes(e.fact);
    const mention = bySpan.get(spanKey(e.reference, span));
    // The card showed this mention's sentence (itself, or another mention's in the same sentence).
    const same = mention !== undefined ? quoted.find((q) => sameQuote(q, mention)) : undefined;
    return {
      fact: e.fact,
      reference: e.reference,
      ...(assertion !== undefined ? { assertion } : {}),
      span,
      ...(same?.note !== undefined ? { quote: same.note.quote } : {}),
      source: 'note',
    };
  });
}

/**
 * The one reason a reviewer's table shows: for a met order the first indication that holds, for an unmet one
 * the first non-indication that holds (else the indications root: none can hold), and for documentation
 * needed the first missing fact.
 */
function mainReason(policy: Policy, decided: DecidedOrder): string {
  const { outcome } = decided.determination;
  const ind = policy.indications.id ?? 'ind';
  const non = policy.nonIndications.id ?? 'non';
  switch (outcome.decision) {
    case 'meets-criteria':
      return outcome.satisfiedCriteria.find((id) => id.startsWith(`${ind}.`)) ?? outcome.satisfiedCriteria[0] ?? ind;
    case 'does-not-meet-criteria':
      return outcome.satisfiedCriteria.find((id) => id.startsWith(`${non}.`)) ?? ind;
    case 'documentation-needed':
      return outcome.missing[0] ?? ind;
  }
}

/** The coverage-assertion-id, satisfied-pa-id and covered code of this service's coverage-information on an action's resource. */
function coverageOf(action: Action | undefined): Pick<DeterminationRecord, 'coverageAssertionId' | 'satisfiedPaId' | 'covered'> {
  if (action === undefined || action.type === 'delete') {
    return {};
  }
  const extensions = (action.resource as { extension?: Extension[] }).extension ?? [];
  const ours = extensions.find((e) => isThisServices(e));
  if (!ours) {
    return {};
  }
  const value = (url: string): string | undefined => {
    const p = partsOf(ours, url)[0];
    return p?.valueString ?? p?.valueCode;
  };
  const coverageAssertionId = value('coverage-assertion-id');
  const satisfiedPaId = value('satisfied-pa-id');
  const covered = value('covered');
  return {
    ...(coverageAssertionId !== undefined ? { coverageAssertionId } : {}),
    ...(satisfiedPaId !== undefined ? { satisfiedPaId } : {}),
    ...(covered !== undefined ? { covered } : {}),
  };
}
