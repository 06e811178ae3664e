import type { Questionnaire, ServiceRequest } from 'fhir/r4.js';
import type { FactResult } from '../facts/extract-facts.js';
import { RecordIndex } from '../facts/record-index.js';
import { gatherRecord, type GatherOptions, type GatherRequest, type PrefetchTemplate } from '../fhir/data-source.js';
import { noteAttachmentReads } from '../fhir/note-attachments.js';
import { medicationReads } from '../fhir/medication-follow-up.js';
import type { PatientRecord } from '../fhir/patient-record.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import type { Criterion } from '../engine/criterion.js';
import type { CardTemplates } from './card-templates.js';
import type { Action, Card, CdsResponse } from './cds-types.js';
import { chooseCoverage, coverageInformationAction } from './coverage-information.js';
import { determine, type Determination } from './determine.js';
import type { HookRequest } from './hook-request.js';
import { QuestionnaireStore, askableFacts, buildQuestionnaire } from './questionnaire.js';
import { CardRenderer } from './render-card.js';
import { draftServiceRequests, inScopeOrders } from './scope.js';
import { suggestionsFor } from './suggestions.js';

export interface OrderHookDeps {
  readonly loaded: LoadedPolicy;
  readonly templates: CardTemplates;
  readonly prefetch: readonly PrefetchTemplate[];
  readonly gather: GatherOptions;
  readonly mirrorSystemActions: boolean;
  /** Where per-determination questionnaires are kept for their links. */
  readonly questionnaires: QuestionnaireStore;
}

/** The response and what the log may say about it (decisions and counts, never data). */
export interface OrderHookResult {
  readonly response: CdsResponse;
  readonly decisions: readonly string[];
  readonly fhirRequests: number;
  readonly unchecked: readonly string[];
}

/**
 * The order-sign / order-select use case (SPEC §1–§7).
 * @param deps - policy, templates, prefetch templates and data-gathering options
 */
export function createOrderHook(deps: OrderHookDeps): (request: HookRequest, receivedAt: number, baseUrl: string) => Promise<OrderHookResult> {
  const { loaded, templates } = deps;
  const renderer = new CardRenderer(loaded, templates);
  const labels = labelsOf(loaded);
  const labelOf = (id: string): string => labels.get(id) ?? id;

  return async function handleOrderHook(request, receivedAt, baseUrl) {
    const drafts = selectDraftOrders(request);
    const orders = inScopeOrders(request.hook, drafts, request.context.selections, loaded.policy, loaded.valueSets);
    if (orders.length === 0) {
      return { response: { cards: [] }, decisions: [], fhirRequests: 0, unchecked: [] };
    }
    // Read after the searches, under the same token and deadline: note texts held in Binaries (SPEC §8.1) and the
    // Medications prescriptions name by reference (SPEC §4.1).
    const record = await gatherRecord(deps.prefetch, gatherRequestOf(request), deps.gather, { followUps: [noteAttachmentReads, medicationReads] });
    const determinations = decideEach(orders, drafts, record, receivedAt);
    const coverage = chooseCoverage(record, receivedAt);
    const policyUrl = `${baseUrl}/policies/${loaded.policy.id}`;
    const questionnaires = determinations.map((d) => questionnaireFor(d, baseUrl));
    const cards: Card[] = determinations.map((d, i) =>
      renderer.card(d, coverage.state, policyUrl, {
        questionnaire: questionnaires[i],
        suggestions: suggestionsFor(d, questionnaires[i], request.context.patientId, receivedAt, loaded),
      }),
    );
    // CRD: coverage information rides on order-sign, a primary hook; order-select gets cards only.
    const systemActions: Action[] =
      request.hook === 'order-sign'
        ? determinations.flatMap((d, i) => coverageInformationAction(d, coverage, receivedAt, loaded, templates, labelOf, questionnaires[i]) ?? [])
        : [];
    return {
      response: respond(cards, systemActions, deps.mirrorSystemActions),
      decisions: determinations.map((d) => d.outcome.decision),
      fhirRequests: record.fhirRequests,
      unchecked: determinations[0]?.unchecked.map((u) => `${u.type}:${u.failure}`) ?? [],
    };
  };

  /**
   * When documentation is needed: a questionnaire of exactly the missing facts, and beside it the policy's
   * full questionnaire pre-answered from the record, both kept for their links. Both are built when first
   * fetched; the signing path builds only the outline the card, its suggestion and CRD need.
   */
  function questionnaireFor(d: Determination, baseUrl: string): Questionnaire | undefined {
    if (d.outcome.decision !== 'documentation-needed' || d.outcome.missing.length === 0) {
      return undefined;
    }
    const id = QuestionnaireStore.newId(loaded.policy);
    const title = `${loaded.policy.service}: documentation needed for this order`;
    const missing = d.outcome.missing;
    // The producers keep a small copy of what they need, not the determination: a thousand entries may be
    // held, and a determination holds the order, the trace and every piece of evidence.
    const facts = compactFacts(d.facts);
    // What the record holds goes only into the view for the EHR's authenticated client (issue #12).
    deps.questionnaires.put(id, (view) => buildQuestionnaire(loaded.policy, baseUrl, missing, { id, title, ...(view === 'with-record' ? { facts } : {}) }));
    deps.questionnaires.put(`${id}-full`, (view) =>
      buildQuestionnaire(
        loaded.policy,
        baseUrl,
        askableFacts(loaded.policy),
        view === 'with-record'
          ? { id: `${id}-full`, title: `${loaded.policy.service}: every criterion, pre-answered from the record`, facts, prefill: true }
          : { id: `${id}-full`, title: `${loaded.policy.service}: every criterion of the policy` },
      ),
    );
    return buildQuestionnaire(loaded.policy, baseUrl, missing, { id, title, help: false });
  }

  function decideEach(orders: readonly ServiceRequest[], drafts: readonly ServiceRequest[], record: PatientRecord, receivedAt: number): Determination[] {
    const index = new RecordIndex(record);
    return orders.map((order) => determine(loaded, record, index, order, drafts, receivedAt));
  }
}

/**
 * What the two questionnaires need of the facts: values and at most three pieces of evidence each.
 * Fact results are immutable and their evidence holds only strings, so a fact that is already that small
 * is shared, and only the few with longer evidence lists are copied.
 */
function compactFacts(facts: ReadonlyMap<string, FactResult>): ReadonlyMap<string, FactResult> {
  let compact: Map<string, FactResult> | undefined;
  for (const [id, f] of facts) {
    if (f.evidence.length > 3) {
      compact ??= new Map(facts);
      compact.set(id, { ...f, evidence: f.evidence.slice(0, 3) });
    }
  }
  return compact ?? facts;
}

function selectDraftOrders(request: HookRequest): ServiceRequest[] {
  return draftServiceRequests(request.context.draftOrders.entry ?? []);
}

function gatherRequestOf(request: HookRequest): GatherRequest {
  const token = request.fhirAuthorization?.access_token;
  return {
    patientId: request.context.patientId,
    context: request.context,
    ...(request.prefetch !== undefined ? { prefetch: request.prefetch } : {}),
    ...(request.fhirServer !== undefined ? { fhirServer: request.fhirServer } : {}),
    // An empty token (the CRD request generator sends one) means: call the server without one.
    ...(token ? { accessToken: token } : {}),
  };
}

function respond(cards: readonly Card[], systemActions: readonly Action[], mirror: boolean): CdsResponse {
  if (systemActions.length === 0) {
    return { cards };
  }
  // Some clients (the CDS Hooks sandbox) read system actions only from response.extension.systemActions.
  return { cards, systemActions, ...(mirror ? { extension: { systemActions } } : {}) };
}

/** Plain words for every fact (the policy's words) and named criterion (its label), looked up by id. */
function labelsOf(loaded: LoadedPolicy): Map<string, string> {
  const labels = new Map(loaded.policy.facts.map((f) => [f.id, f.words]));
  const visit = (c: Criterion): void => {
    if (c.id !== undefined && !labels.has(c.id)) {
      labels.set(c.id, c.label ?? c.clause ?? c.id);
    }
    if (c.kind === 'all' || c.kind === 'any') {
      c.of.forEach(visit);
    } else if (c.kind === 'not' || c.kind === 'documented') {
      visit(c.of);
    }
  };
  visit(loaded.policy.indications);
  visit(loaded.policy.nonIndications);
  return labels;
}
