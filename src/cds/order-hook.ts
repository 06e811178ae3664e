import type { Questionnaire, ServiceRequest } from 'fhir/r4.js';
import type { FactResult } from '../facts/extract-facts.js';
import type { NoteTexts } from '../facts/note-texts.js';
import { RecordIndex } from '../facts/record-index.js';
import { gatherRecord, openSession, type GatherOptions, type GatherRequest, type PrefetchTemplate } from '../fhir/data-source.js';
import { medicationReads } from '../fhir/medication-follow-up.js';
import { noteAttachmentReads } from '../fhir/note-attachments.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import type { Criterion } from '../engine/criterion.js';
import { chooseCoverage, coverageEvidence, payerOrganizations, type CoverageSituation } from '../crd/coverage-choice.js';
import { isOn, readConfiguration, type ConfigurationOptions } from '../crd/configuration.js';
import type { Plan } from '../crd/plans.js';
import type { CardTemplates } from './card-templates.js';
import type { Action, Card, CdsResponse } from './cds-types.js';
import type { CoverageCardTemplates, UnreviewedSituation } from './coverage-cards.js';
import {
  assertionForDetermination,
  assertionForUnreviewed,
  configurationCard,
  configuredCards,
  coverageAction,
  crdCard,
  unreadOrdersCard,
  unreviewedCard,
  type CrdWording,
} from './crd-response.js';
import { determine, nowFor, type Determination } from './determine.js';
import { isPrimaryHook } from './discovery.js';
import type { HookRequest } from './hook-request.js';
import { findOrders } from './hook-orders.js';
import { QuestionnaireStore, askableFacts, buildQuestionnaire } from './questionnaire.js';
import { CardRenderer } from './render-card.js';
import { suggestionsFor } from './suggestions.js';

export interface OrderHookDeps {
  readonly loaded: LoadedPolicy;
  readonly templates: CardTemplates;
  readonly prefetch: readonly PrefetchTemplate[];
  readonly gather: GatherOptions;
  readonly mirrorSystemActions: boolean;
  /** Where per-determination questionnaires are kept for their links. */
  readonly questionnaires: QuestionnaireStore;
  /** The health plans this service reviews (SPEC §7.1). */
  readonly plans: readonly Plan[];
  /** Da Vinci CRD configuration options and card types. */
  readonly crdOptions: ConfigurationOptions;
  /** Wording of the §7.1 cards and the configuration warning. */
  readonly coverageCards: CoverageCardTemplates;
}

/** The response and what the log may say about it (decisions and counts, never data). */
export interface OrderHookResult {
  readonly response: CdsResponse;
  /** Per order: its decision, or "coverage:<reason>" when its coverage was not one this service reviews. */
  readonly decisions: readonly string[];
  readonly fhirRequests: number;
  readonly unchecked: readonly string[];
  /** Configuration options that could not be applied as sent (codes only). */
  readonly configuration: readonly string[];
  /** How many note texts were read, and how many notes were not, by reason (counts only: never text). */
  readonly notes?: { readonly read: number; readonly unread: readonly string[] };
}

const UNREVIEWED_REASON: Readonly<Record<UnreviewedSituation, string>> = {
  'not-in-force': 'no-active-coverage',
  'other-payer': 'no-member-found',
  none: 'coverage-not-found',
};

/**
 * The hook use case for order-sign, order-select, appointment-book and order-dispatch (SPEC §1–§7.1, Da Vinci
 * CRD): find the in-scope orders (hook by hook) → gather the record → choose whose coverage each order is
 * reviewed under → decide each reviewed order → cards, and on the primary hooks the coverage-information system
 * actions, as the request's CRD configuration and the orders' earlier assertions allow.
 * @param deps - policy, templates, plans, CRD options, prefetch templates and data-gathering options
 */
export function createOrderHook(deps: OrderHookDeps): (request: HookRequest, receivedAt: number, baseUrl: string) => Promise<OrderHookResult> {
  const { loaded, templates } = deps;
  const renderer = new CardRenderer(loaded, templates);
  const labels = labelsOf(loaded);
  const labelOf = (id: string): string => labels.get(id) ?? id;
  const wording: CrdWording = {
    loaded,
    templates,
    coverageCards: deps.coverageCards,
    options: deps.crdOptions,
    payerName: deps.plans[0]?.name ?? loaded.policy.publisher,
  };
  /** Whether a questionnaire canonical ("…/Questionnaire/<id>|1.1") is still served by this service. */
  const questionnaireServed = (canonical: string): boolean => {
    const id = /\/Questionnaire\/([^/|]+)(?:\|.*)?$/.exec(canonical)?.[1];
    return id !== undefined && (id === loaded.policy.id || deps.questionnaires.has(id));
  };

  return async function handleOrderHook(request, receivedAt, baseUrl) {
    const config = readConfiguration(deps.crdOptions, request.extension);
    const configurationProblems = config.problems.map((p) => p.option);
    // One session for every FHIR read of the call: the orders an appointment or a dispatch names, the searches,
    // the payer Organizations. One token, one deadline.
    const gatherRequest = gatherRequestOf(request);
    const session = openSession(gatherRequest, deps.gather);
    const { inScope, all, unread } = await findOrders(request, session, loaded);
    const unreadCard = unreadOrdersCard(unread, wording);
    if (inScope.length === 0) {
      const cards = unreadCard ? configuredCards(configurationCard(config, wording), [unreadCard], config) : [];
      return { response: { cards }, decisions: [], fhirRequests: session.requests, unchecked: unread.map((u) => `ServiceRequest:${u.failure}`), configuration: configurationProblems };
    }
    // Read after the searches, under the same token and deadline: payer Organizations the coverage names (SPEC §7.1),
    // note texts held in Binaries (SPEC §8.1), and the Medications prescriptions name by reference (SPEC §4.1).
    const record = await gatherRecord(deps.prefetch, gatherRequest, deps.gather, { session, followUps: [payerOrganizations, noteAttachmentReads, medicationReads] });
    const evidence = coverageEvidence(record);
    const index = new RecordIndex(record);
    const policyUrl = `${baseUrl}/policies/${loaded.policy.id}`;
    const primary = isPrimaryHook(request.hook);
    const wantsCoverageInfo = primary && isOn(config, 'coverage-info');

    const cards: Card[] = [];
    const systemActions: Action[] = [];
    const decisions: string[] = [];
    const determinations: Determination[] = [];
    const unreviewed = new Map<UnreviewedSituation, { order: ServiceRequest; via?: string | undefined; plan?: Plan | undefined }[]>();
    for (const { order, via } of inScope) {
      const situation: CoverageSituation = chooseCoverage(evidence, deps.plans, order, nowFor(order, receivedAt));
      if (situation.kind === 'served' || situation.kind === 'unreadable') {
        const det = determine(loaded, record, index, order, all, receivedAt);
        determinations.push(det);
        decisions.push(det.outcome.decision);
        const questionnaire = questionnaireFor(det, baseUrl);
        const plan = situation.kind === 'served' ? situation.plan : undefined;
        const card = renderer.card(det, situation.kind === 'served' ? 'active' : 'unreadable', policyUrl, {
          questionnaire,
          suggestions: suggestionsFor(det, questionnaire, request.context.patientId, receivedAt, loaded),
        });
        cards.push(crdCard(card, det, plan, via, wording, request.hook === 'order-dispatch' ? request.context.performer : undefined));
        if (wantsCoverageInfo) {
          const assertion = assertionForDetermination(det, situation, config, wording, labelOf, receivedAt, questionnaire);
          const action = coverageAction(order, assertion, wording, questionnaireServed);
          if (action) {
            systemActions.push(action);
          }
        }
        continue;
      }
      decisions.push(`coverage:${UNREVIEWED_REASON[situation.kind]}`);
      const group = unreviewed.get(situation.kind) ?? [];
      group.push({ order, via, ...(situation.kind === 'not-in-force' ? { plan: situation.plan } : {}) });
      unreviewed.set(situation.kind, group);
      if (wantsCoverageInfo) {
        // SPEC §7.1: one card for the request, but each order still gets its own not-covered assertion.
        const action = coverageAction(order, assertionForUnreviewed(situation, wording, receivedAt), wording);
        if (action) {
          systemActions.push(action);
        }
      }
    }
    for (const [kind, orders] of unreviewed) {
      cards.push(unreviewedCard(kind, orders, policyUrl, wording));
    }
    if (unreadCard) {
      cards.push(unreadCard);
    }
    return {
      response: respond(configuredCards(configurationCard(config, wording), cards, config), systemActions, deps.mirrorSystemActions),
      decisions,
      fhirRequests: record.fhirRequests,
      unchecked: determinations[0]?.unchecked.map((u) => `${u.type}:${u.failure}`) ?? [],
      configuration: configurationProblems,
      ...(determinations[0] ? { notes: notesLog(determinations[0].notes) } : {}),
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
}

/**
 * What the two questionnaires need of the facts: values and at most three pieces of evidence each.
 * Fact results are immutable and their evidence holds only strings, so a fact that is already that small
 * is shared, and only the few with longer evidence lists are copied.
 */
function compactFacts(facts: ReadonlyMap<string, FactResult>): ReadonlyMap<string, FactResult> {
  let compact: Map<string, FactResult> | undefined;
  for (const [id, f] of facts) {
    if (f.evidence.length > 3 || f.negating.length > 3) {
      compact ??= new Map(facts);
      compact.set(id, { ...f, evidence: f.evidence.slice(0, 3), negating: f.negating.slice(0, 3) });
    }
  }
  return compact ?? facts;
}

/** What the log may say of the notes: counts by reason, never text (SPEC §8.1). */
function notesLog(notes: NoteTexts): { read: number; unread: string[] } {
  return { read: notes.texts.length, unread: Object.entries(notes.unread).map(([reason, count]) => `${reason}:${String(count)}`) };
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
