import type { Questionnaire, ServiceRequest } from 'fhir/r4.js';
import type { NoteTexts } from '../facts/note-texts.js';
import { RecordIndex, referenceOf } from '../facts/record-index.js';
import { gatherRecord, openSession, type GatherOptions, type GatherRequest, type PrefetchTemplate } from '../fhir/data-source.js';
import { medicationReads } from '../fhir/medication-follow-up.js';
import { noteAttachmentReads } from '../fhir/note-attachments.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { policyLookup } from '../policy/policy-lookup.js';
import { chooseCoverage, coverageEvidence, payerOrganizations, type CoverageSituation } from '../crd/coverage-choice.js';
import { isOn, readConfiguration, type ConfigurationOptions } from '../crd/configuration.js';
import { linkedQuestionnaires } from '../crd/idempotence.js';
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
import { QuestionnaireStore, questionnaireOutline, questionnaireSpec } from './questionnaire.js';
import { CardRenderer } from './render-card.js';
import type { KeptQuestionnaire } from './shared-questionnaires.js';
import { suggestionsFor } from './suggestions.js';

export interface OrderHookDeps {
  readonly loaded: LoadedPolicy;
  readonly templates: CardTemplates;
  readonly prefetch: readonly PrefetchTemplate[];
  readonly gather: GatherOptions;
  readonly mirrorSystemActions: boolean;
  /** Whether questionnaires that earlier assertions on the orders link to are still served (re-signing). */
  readonly questionnaires: QuestionnaireLinks;
  /** The health plans this service reviews (SPEC §7.1). */
  readonly plans: readonly Plan[];
  /** Da Vinci CRD configuration options and card types. */
  readonly crdOptions: ConfigurationOptions;
  /** Wording of the §7.1 cards and the configuration warning. */
  readonly coverageCards: CoverageCardTemplates;
}

/** Asks which per-determination questionnaires are still served, by id (any replica's, through the store). */
export interface QuestionnaireLinks {
  served(ids: readonly string[]): Promise<ReadonlySet<string>>;
}

/** One decided order as the response carried it: for the record (src/cds/invocation-record.ts). */
export interface DecidedOrder {
  readonly determination: Determination;
  /** The card that showed it, when the request's configuration let that card through. */
  readonly card?: Card;
  /** Its coverage-information system action, when one was sent (none when the order already carried the same assertion). */
  readonly action?: Action;
}

/**
 * The response, what the log may say about it (decisions and counts, never data), and what the record keeps
 * of the call (issue #13 §2).
 */
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
  /** References of the in-scope orders, decided or not. */
  readonly orders: readonly string[];
  /** The orders that were decided, in response order. */
  readonly decided: readonly DecidedOrder[];
  /** The questionnaires the cards link to: to be kept before the answer goes out. */
  readonly questionnaires: readonly KeptQuestionnaire[];
}

const NO_DECISIONS: readonly never[] = Object.freeze([]);

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
  const labels = policyLookup(loaded.policy).words;
  const labelOf = (id: string): string => labels.get(id) ?? id;
  const wording: CrdWording = {
    loaded,
    templates,
    coverageCards: deps.coverageCards,
    options: deps.crdOptions,
    payerName: deps.plans[0]?.name ?? loaded.policy.publisher,
  };
  /** The questionnaire id of a canonical ("…/Questionnaire/<id>|1.1"). */
  const questionnaireId = (canonical: string): string | undefined => /\/Questionnaire\/([^/|]+)(?:\|.*)?$/.exec(canonical)?.[1];

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
      // No lumbar MRI order: {"cards": []}, or only the card naming orders that could not be read.
      const cards = unreadCard ? configuredCards(configurationCard(config, wording), [unreadCard], config) : [];
      const unchecked = unread.map((u) => `ServiceRequest:${u.failure}`);
      return { response: { cards }, decisions: NO_DECISIONS, fhirRequests: session.requests, unchecked, configuration: configurationProblems, orders: NO_DECISIONS, decided: NO_DECISIONS, questionnaires: NO_DECISIONS };
    }
    // Read after the searches, under the same token and deadline: payer Organizations the coverage names (SPEC §7.1),
    // note texts held in Binaries (SPEC §8.1), and the Medications prescriptions name by reference (SPEC §4.1).
    const record = await gatherRecord(deps.prefetch, gatherRequest, deps.gather, { session, followUps: [payerOrganizations, noteAttachmentReads, medicationReads] });
    const evidence = coverageEvidence(record);
    const index = new RecordIndex(record);
    const policyUrl = `${baseUrl}/policies/${loaded.policy.id}`;
    const primary = isPrimaryHook(request.hook);
    const wantsCoverageInfo = primary && isOn(config, 'coverage-info');
    // Re-signing: questionnaires earlier assertions link to, asked once for the call (any replica may have made them).
    const linked = wantsCoverageInfo ? inScope.flatMap(({ order }) => linkedQuestionnaires(order).flatMap((c) => questionnaireId(c) ?? [])).filter((id) => id !== loaded.policy.id) : [];
    const served = await deps.questionnaires.served(linked);
    const questionnaireServed = (canonical: string): boolean => {
      const id = questionnaireId(canonical);
      return id !== undefined && (id === loaded.policy.id || served.has(id));
    };
    const kept: KeptQuestionnaire[] = [];
    const decided: DecidedOrder[] = [];
    const systemActions: Action[] = [];
    const decisions: string[] = [];
    const unreviewed = new Map<UnreviewedSituation, { order: ServiceRequest; via?: string | undefined; plan?: Plan | undefined }[]>();

    /** A member of a reviewed plan (or coverage that could not be read): decide, show, assert (SPEC §6, §7, §7.1). */
    const decideOrder = (order: ServiceRequest, via: string | undefined, situation: CoverageSituation & { kind: 'served' | 'unreadable' }): DecidedOrder & { card: Card } => {
      const det = determine(loaded, record, index, order, all, receivedAt);
      const questionnaire = questionnaireFor(det, baseUrl, kept);
      const plan = situation.kind === 'served' ? situation.plan : undefined;
      const card = renderer.card(det, situation.kind === 'served' ? 'active' : 'unreadable', policyUrl, {
        questionnaire,
        suggestions: suggestionsFor(det, questionnaire, request.context.patientId, receivedAt, loaded),
      });
      const shown = crdCard(card, det, plan, via, wording, request.hook === 'order-dispatch' ? request.context.performer : undefined);
      const action = wantsCoverageInfo
        ? coverageAction(order, assertionForDetermination(det, situation, config, wording, labelOf, receivedAt, questionnaire), wording, questionnaireServed)
        : undefined;
      return { determination: det, card: shown, ...(action ? { action } : {}) };
    };

    for (const { order, via } of inScope) {
      const situation: CoverageSituation = chooseCoverage(evidence, deps.plans, order, nowFor(order, receivedAt));
      if (situation.kind === 'served' || situation.kind === 'unreadable') {
        const one = decideOrder(order, via, situation);
        decided.push(one);
        decisions.push(one.determination.outcome.decision);
        if (one.action) {
          systemActions.push(one.action);
        }
        continue;
      }
      // SPEC §7.1: not this policy's member. One card for the request, but each order its own not-covered assertion.
      decisions.push(`coverage:${UNREVIEWED_REASON[situation.kind]}`);
      const group = unreviewed.get(situation.kind) ?? [];
      group.push({ order, via, ...(situation.kind === 'not-in-force' ? { plan: situation.plan } : {}) });
      unreviewed.set(situation.kind, group);
      const action = wantsCoverageInfo ? coverageAction(order, assertionForUnreviewed(situation, wording, receivedAt), wording) : undefined;
      if (action) {
        systemActions.push(action);
      }
    }
    const cards: Card[] = decided.flatMap((d) => (d.card ? [d.card] : []));
    for (const [kind, orders] of unreviewed) {
      cards.push(unreviewedCard(kind, orders, policyUrl, wording));
    }
    if (unreadCard) {
      cards.push(unreadCard);
    }
    const sent = configuredCards(configurationCard(config, wording), cards, config);
    const response = respond(sent, systemActions, deps.mirrorSystemActions);
    const first = decided[0]?.determination;
    return {
      response,
      decisions,
      fhirRequests: record.fhirRequests,
      unchecked: first?.unchecked.map((u) => `${u.type}:${u.failure}`) ?? [],
      configuration: configurationProblems,
      orders: inScope.map(({ order }) => referenceOf(order)),
      // A card the configuration held back was not shown: the record names no card for it (dev-5).
      decided: decided.map((d) => (d.card !== undefined && sent.includes(d.card) ? d : { determination: d.determination, ...(d.action ? { action: d.action } : {}) })),
      // Questionnaires of held-back cards are still linked from the coverage-information, so all are kept.
      questionnaires: kept,
      ...(first ? { notes: notesLog(first.notes) } : {}),
    };
  };

  /**
   * When documentation is needed: a questionnaire of exactly the missing facts, and beside it the policy's
   * full questionnaire pre-answered from the record. What both are built from (their spec) is handed back to
   * be kept where every replica can serve them; both are built when fetched, for their reader. The signing
   * path builds only the outline the card, its suggestion and CRD need.
   */
  function questionnaireFor(d: Determination, baseUrl: string, kept: KeptQuestionnaire[]): Questionnaire | undefined {
    if (d.outcome.decision !== 'documentation-needed' || d.outcome.missing.length === 0) {
      return undefined;
    }
    const id = QuestionnaireStore.newId(loaded.policy);
    const spec = questionnaireSpec(loaded.policy, baseUrl, d.outcome.missing, d.facts);
    kept.push({ id, spec });
    return questionnaireOutline(loaded.policy, id, spec);
  }
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

