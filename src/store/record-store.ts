import type { Decision } from '../engine/decide.js';

/**
 * The persistence port (issue #13): what the service keeps so that a payer can produce, for a claim or a
 * dispute, exactly what was decided, on which evidence, under which policy version (CRD found-11, found-37).
 * Callers see only this interface; which engine is behind it (PostgreSQL or embedded PGlite) is chosen once
 * by createStore.
 *
 * Never stored: the access token, the prefetch, or note text beyond the quotes a card already showed.
 */

/** A JSON value as the service sent it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Where a piece of evidence came from: a coded resource, a clinical note, or a clinician's answer. */
export type EvidenceSource = 'code' | 'note' | 'answer';

export const EVIDENCE_SOURCES: readonly EvidenceSource[] = ['code', 'note', 'answer'];

export const DECISIONS: readonly Decision[] = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'];

/** One piece of evidence behind a fact. */
export interface EvidenceRecord {
  readonly fact: string;
  /** The FHIR reference ("Condition/abc", "DocumentReference/n1"). */
  readonly reference: string;
  /** For notes: how the mention was asserted (present, negated, historical, …). */
  readonly assertion?: string;
  /** For notes: where the quote sits in the note ("in" names the attachment or section). */
  readonly span?: { readonly in: string; readonly start: number; readonly end: number };
  /** The words the card showed, and nothing more of the note. */
  readonly quote?: string;
  readonly source: EvidenceSource;
}

/** The determination for one order. */
export interface DeterminationRecord {
  /** The order's reference ("ServiceRequest/x"). */
  readonly order: string;
  /** The order's code ("http://www.ama-assn.org/go/cpt|72148"). */
  readonly orderCode?: string;
  readonly decision: Decision;
  /** The uuid of the card that showed it; CDS Hooks feedback names it. */
  readonly cardUuid?: string;
  readonly satisfied: readonly string[];
  readonly missing: readonly string[];
  readonly evidence: readonly EvidenceRecord[];
  /** CRD coverage-information coverage-assertion-id; unique across the record. */
  readonly coverageAssertionId?: string;
  /** CRD coverage-information satisfied-pa-id; unique across the record. */
  readonly satisfiedPaId?: string;
  /** CRD covered code (covered, not-covered, conditional, indeterminate). */
  readonly covered?: string;
  /** The one reason a reviewer's table shows (a criterion or fact id). */
  readonly mainReason?: string;
  /** Notes that could not be read, counted by reason. */
  readonly notesUnread?: Readonly<Record<string, number>>;
}

/** Everything recorded about one hook call. */
export interface InvocationRecord {
  /** A fresh uuid per call. */
  readonly id: string;
  /** Epoch ms the request was received. */
  readonly receivedAt: number;
  readonly hook: string;
  readonly hookInstance: string;
  /** The CDS service id called. */
  readonly service: string;
  /** The verified client's issuer, when client authentication is on. */
  readonly clientIss?: string;
  readonly patientId: string;
  /** References of the in-scope orders. */
  readonly orders: readonly string[];
  readonly policy: { readonly id: string; readonly version: string };
  readonly determinations: readonly DeterminationRecord[];
  /**
   * The response body exactly as sent (cards and system actions): a JSON-serialisable object (the hook's
   * CdsResponse), written as JSON.stringify writes it, so its text and key order are kept.
   */
  readonly response: object;
  /**
   * The response's JSON text, when the caller already serialised it to send it (it must be
   * JSON.stringify(response)): stored as it is, so the record holds the very text sent and the response is not
   * serialised twice on the signing path.
   */
  readonly responseText?: string;
  /** Sources that could not be read, as "Type:failure" ("Condition:timeout"). */
  readonly unreadable: readonly string[];
  readonly fhirRequests: number;
  readonly durationMs: number;
  /**
   * The per-determination questionnaires the response's cards link to, written in the same statement as the
   * call (one insert per call, batched with the calls that arrive together) and served by every replica until
   * their expiresAt. Not part of the call's record as read back: they live in the questionnaire table and
   * expire after their day.
   */
  readonly questionnaires?: readonly QuestionnaireRecord[];
}

/** A per-determination questionnaire kept for the links of a card: any JSON-serialisable object, until expiresAt. */
export interface QuestionnaireRecord {
  readonly id: string;
  readonly payload: object;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** What became of a record handed to the store. */
export type RecordOutcome =
  /** Committed to the database before the call resolved. */
  | { readonly state: 'durable' }
  /** Not yet committed (database slow or unreachable): held in the bounded queue and written when it can be. */
  | { readonly state: 'queued'; readonly queued: number }
  /** The queue was full: this record was refused (the queue keeps the older ones it already holds). */
  | { readonly state: 'dropped'; readonly queued: number };

/** A CDS Hooks feedback item as kept (CDS Hooks 2.0.1 §Feedback). */
export interface FeedbackRecord {
  readonly service: string;
  readonly cardUuid: string;
  readonly outcome: 'accepted' | 'overridden';
  /** Epoch ms the client says the outcome happened. */
  readonly outcomeAt: number;
  /** Epoch ms the feedback was received. */
  readonly receivedAt: number;
  readonly acceptedSuggestions: readonly string[];
  readonly overrideReason?: { readonly code?: string; readonly system?: string };
  /** The clinician's comment, when one was given. */
  readonly userComment?: string;
}

/** One recorded determination with the call it belongs to. */
export interface AssertionRecord {
  readonly invocation: InvocationRecord;
  /** The determination that carries the asked-for coverage-assertion-id or satisfied-pa-id. */
  readonly determination: DeterminationRecord;
  /** Feedback on the determination's card, oldest first. */
  readonly feedback: readonly FeedbackRecord[];
}

/** A line of the invocation list: everything but the response body. */
export type InvocationSummary = Omit<InvocationRecord, 'response' | 'responseText' | 'questionnaires'>;

export interface InvocationQuery {
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  /** Only calls with at least one determination with this decision. */
  readonly decision?: Decision;
  readonly patientId?: string;
  /** 1 to MAX_PAGE_SIZE. */
  readonly limit: number;
  /** The opaque cursor of the previous page. */
  readonly cursor?: string;
}

export const MAX_PAGE_SIZE = 200;

export interface InvocationPage {
  /** Newest first. */
  readonly items: readonly InvocationSummary[];
  /** Present when there may be more: pass it back for the next page. */
  readonly next?: string;
}

export type StoreHealth =
  | { readonly status: 'ok'; readonly queued: number }
  | { readonly status: 'degraded'; readonly queued: number; readonly reason: 'unreachable' | 'backlog' };

export interface CleanupResult {
  readonly invocations: number;
  readonly feedback: number;
  readonly questionnaires: number;
  readonly jtis: number;
}

export interface FlushResult {
  /** Records still not written when flush gave up (0 when everything is durable). */
  readonly remaining: number;
}

/**
 * The period and filter of every question of the reviewers' dashboard (issue #14): determinations whose call
 * was received in [since, until), optionally only orders with one code.
 */
export interface DashboardFilter {
  /** Epoch ms, inclusive. */
  readonly since: number;
  /** Epoch ms, exclusive. */
  readonly until: number;
  /** An order code as recorded ("http://www.ama-assn.org/go/cpt|72148"). */
  readonly orderCode?: string;
}

/** Determinations of one UTC day with one decision. */
export interface DecisionDayCount {
  /** The UTC day, YYYY-MM-DD. */
  readonly day: string;
  readonly decision: Decision;
  readonly determinations: number;
}

/** Determinations of one order code (null when none was recorded) with one decision. */
export interface OrderCodeCount {
  readonly orderCode: string | null;
  readonly decision: Decision;
  readonly determinations: number;
}

/**
 * Determinations with one decision whose recorded evidence came from exactly this set of sources (in
 * EVIDENCE_SOURCES order; empty when no evidence was recorded).
 */
export interface FactSourceCount {
  readonly decision: Decision;
  readonly sources: readonly EvidenceSource[];
  readonly determinations: number;
}

/** How many documentation-needed determinations asked for each fact. */
export interface MissingFacts {
  /** Documentation-needed determinations in the period. */
  readonly documentationNeeded: number;
  /** The most asked-for facts first (ties by fact id). */
  readonly facts: readonly { readonly fact: string; readonly determinations: number }[];
}

/** Feedback on the cards of the determinations with one decision. */
export interface FeedbackCount {
  readonly decision: Decision;
  readonly determinations: number;
  /** Determinations whose card received an 'accepted' feedback item. */
  readonly accepted: number;
  /** Determinations whose card received an 'overridden' feedback item. */
  readonly overridden: number;
}

/** Overrides of the cards of one decision, with one reason (null code: none given). */
export interface OverrideReasonCount {
  readonly decision: Decision;
  readonly code: string | null;
  readonly system: string | null;
  readonly overrides: number;
}

/** For one criterion or fact id, satisfied or missing: the determinations that had it, and how many were overridden. */
export interface CriterionOverrideCount {
  readonly kind: 'satisfied' | 'missing';
  readonly id: string;
  readonly determinations: number;
  readonly overridden: number;
}

/** Calls of the period whose FHIR reads failed, by resource type and kind of failure. */
export interface FhirFailures {
  readonly invocations: number;
  /** Calls with at least one unreadable source. */
  readonly withFailure: number;
  readonly failures: readonly { readonly resourceType: string; readonly failure: string; readonly invocations: number }[];
}

/** Hook durations of one UTC day. */
export interface DurationDay {
  readonly day: string;
  readonly invocations: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

/** Notes that could not be read, for one reason, summed over the determinations of the period. */
export interface NotesUnreadCount {
  readonly reason: string;
  readonly notes: number;
  readonly determinations: number;
}

/** A line of the recent determinations table. */
export interface DeterminationLine {
  /** `<invocation id>.<position>`: opens the determination (getDetermination). */
  readonly id: string;
  readonly receivedAt: number;
  readonly patientId: string;
  readonly order: string;
  readonly orderCode?: string;
  readonly decision: Decision;
  readonly mainReason?: string;
  readonly coverageAssertionId?: string;
  /** The feedback outcomes the card received, sorted ('accepted', 'overridden'). */
  readonly feedback: readonly FeedbackRecord['outcome'][];
}

export interface DeterminationQuery extends DashboardFilter {
  readonly decision?: Decision;
  /** 1 to MAX_EXPORT_PAGE_SIZE (the API allows up to MAX_PAGE_SIZE; exports read larger pages). */
  readonly limit: number;
  readonly cursor?: string;
}

/** The page size an export (CSV of a whole period) reads at a time. */
export const MAX_EXPORT_PAGE_SIZE = 1_000;

export interface DeterminationPage {
  /** Newest first, by (receivedAt, invocation id, position). */
  readonly items: readonly DeterminationLine[];
  readonly next?: string;
}

/**
 * The reviewers' dashboard (issue #14): each question one aggregation in SQL over indexed columns, never a
 * walk over every record in memory.
 */
export interface DashboardQueries {
  decisionsPerDay(filter: DashboardFilter): Promise<readonly DecisionDayCount[]>;
  /** Ignores filter.orderCode: the codes of the period, so a reviewer can choose one. */
  orderCodes(filter: DashboardFilter): Promise<readonly OrderCodeCount[]>;
  factSources(filter: DashboardFilter): Promise<readonly FactSourceCount[]>;
  missingFacts(filter: DashboardFilter, limit: number): Promise<MissingFacts>;
  feedbackByDecision(filter: DashboardFilter): Promise<readonly FeedbackCount[]>;
  overrideReasons(filter: DashboardFilter): Promise<readonly OverrideReasonCount[]>;
  overridesByCriterion(filter: DashboardFilter): Promise<readonly CriterionOverrideCount[]>;
  fhirFailures(filter: DashboardFilter): Promise<FhirFailures>;
  hookDurations(filter: DashboardFilter): Promise<readonly DurationDay[]>;
  notesUnread(filter: DashboardFilter): Promise<readonly NotesUnreadCount[]>;
  /** A page of determinations, newest first, by keyset: no skips or repeats between pages. */
  listDeterminations(query: DeterminationQuery): Promise<DeterminationPage>;
  /** One determination by its line id, with its call (response included) and the feedback on its card. */
  getDetermination(id: string): Promise<AssertionRecord | undefined>;
}

/** The durable record. */
export interface RecordStore extends DashboardQueries {
  /** Which engine is behind the port (for /readyz and logs, never for branching in callers). */
  readonly engine: 'postgres' | 'pglite';
  /**
   * Records one hook call. Calls arriving together are written in one transaction. Resolves 'durable' once
   * committed; 'queued' when the database did not commit within the write timeout (the record waits in the
   * bounded queue and is written when the database answers); 'dropped' when that queue is full. Never rejects.
   */
  recordInvocation(record: InvocationRecord): Promise<RecordOutcome>;
  /** The determination carrying a coverage-assertion-id or satisfied-pa-id, with its call and feedback. */
  getAssertion(id: string): Promise<AssertionRecord | undefined>;
  /** A page of calls, newest first, by keyset on (receivedAt, id): no skips or repeats between pages. */
  listInvocations(query: InvocationQuery): Promise<InvocationPage>;
  /** Records feedback items, once per (card, outcome); returns how many were new. */
  recordFeedback(items: readonly FeedbackRecord[]): Promise<number>;
  /** Keeps a questionnaire (a JSON-serialisable FHIR Questionnaire) until expiresAt (epoch ms). */
  putQuestionnaire(id: string, questionnaire: object, expiresAt: number): Promise<void>;
  /** The questionnaire, unless unknown or expired (now = epoch ms, default the store's clock). */
  getQuestionnaire(id: string, now?: number): Promise<JsonValue | undefined>;
  /**
   * True when this (issuer, jti) had not been seen, or only under a token that has since expired; atomic
   * across every replica on the database. expiresAt = epoch ms of the token's exp (plus tolerance).
   */
  claimJti(issuer: string, jti: string, expiresAt: number): Promise<boolean>;
  /**
   * Deletes calls (with their determinations) and feedback older than retentionDays, and expired
   * questionnaires and jtis, in bounded batches with a pause between them so requests are never blocked.
   */
  cleanup(now: number, retentionDays: number): Promise<CleanupResult>;
  health(): Promise<StoreHealth>;
  /** Writes out the queue, waiting at most timeoutMs. */
  flush(timeoutMs?: number): Promise<FlushResult>;
  /** Flushes, then releases the database. */
  close(timeoutMs?: number): Promise<FlushResult>;
}

/** A list cursor this store did not issue (the audit API answers 400 naming `cursor`). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** The database could not be reached or refused the statement; the operation did not happen. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
