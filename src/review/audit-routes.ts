import express from 'express';
import type { ReviewerConfig } from '../config.js';
import { ServiceError } from '../http/errors.js';
import { reviewerAuth } from '../http/reviewer-auth.js';
import type { Logger } from '../logger.js';
import { addDashboardRoutes } from './dashboard-routes.js';
import { fromStore, queryParameters } from './query-parameters.js';
import type { ReviewVocabulary } from './vocabulary.js';
import {
  DECISIONS,
  MAX_PAGE_SIZE,
  type AssertionRecord,
  type DeterminationRecord,
  type FeedbackRecord,
  type InvocationQuery,
  type InvocationSummary,
  type RecordStore,
} from '../store/record-store.js';

export interface AuditDeps {
  readonly store: RecordStore;
  readonly reviewer: ReviewerConfig;
  readonly logger: Logger;
  /** The policy's and the cards' words for ids, for the dashboard (reviewVocabulary(loaded.policy, templates.overrideReasons)). */
  readonly vocabulary: ReviewVocabulary;
  /** The clock of the dashboard's default period (tests fix it). */
  readonly clock?: () => number;
}

/** Page size when the reviewer does not ask for one. */
export const DEFAULT_PAGE_SIZE = 50;

const ASSERTION_ID = /^[A-Za-z0-9._-]{1,128}$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const LIST_PARAMETERS = new Set(['since', 'until', 'decision', 'patient', 'limit', 'cursor']);

/**
 * The reviewers' audit API (issue #13 §3; CRD found-37, found-38): what was decided, on which evidence,
 * under which policy version, for a coverage-assertion-id or satisfied-pa-id a claim or a dispute cites.
 * Outside the CDS Hooks surface, behind its own bearer tokens. Also the dashboard's endpoints (issue #14,
 * dashboard-routes.ts: /audit/summary/*, /audit/determinations). Mount it at /audit, and the page at /review:
 *   app.use('/audit', auditRouter({ store, reviewer: config.reviewer, logger, vocabulary: reviewVocabulary(loaded.policy, templates.overrideReasons) }))
 *   app.use('/review', reviewPage())
 * Errors go to the app's one error handler (OperationOutcome bodies).
 * @param deps - the record store, the reviewer configuration and the logger
 */
export function auditRouter(deps: AuditDeps): express.Router {
  const router = express.Router();
  router.use(reviewerAuth(deps.reviewer.tokenHashes, deps.logger));

  // GET /audit/assertions/{coverage-assertion-id or satisfied-pa-id}
  router.get('/assertions/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!ASSERTION_ID.test(id)) {
      throw new ServiceError('INVALID_QUERY', 'id must be a coverage-assertion-id or satisfied-pa-id (letters, digits, . _ -)', 'id');
    }
    const found = await fromStore(() => deps.store.getAssertion(id));
    if (!found) {
      throw new ServiceError('ASSERTION_NOT_FOUND');
    }
    res.json(presentAssertion(found));
  });

  // GET /audit/invocations?since=&until=&decision=&patient=&limit=&cursor=
  router.get('/invocations', async (req, res) => {
    const query = listQuery(req.query);
    const page = await fromStore(() => deps.store.listInvocations(query));
    res.json({ items: page.items.map(presentSummary), ...(page.next !== undefined ? { next: page.next } : {}) });
  });

  addDashboardRoutes(router, { store: deps.store, vocabulary: deps.vocabulary, ...(deps.clock !== undefined ? { clock: deps.clock } : {}) });

  router.use(() => {
    throw new ServiceError('NOT_FOUND');
  });
  return router;
}

/** Reads and checks the list's query parameters; the first wrong one is named in the 400. */
export function listQuery(raw: Record<string, unknown>): InvocationQuery {
  const { value, instant } = queryParameters(raw, LIST_PARAMETERS);
  const since = instant('since');
  const until = instant('until');
  if (since !== undefined && until !== undefined && since >= until) {
    throw new ServiceError('INVALID_QUERY', 'until must be later than since', 'until');
  }
  const decision = value('decision');
  if (decision !== undefined && !(DECISIONS as readonly string[]).includes(decision)) {
    throw new ServiceError('INVALID_QUERY', `decision must be one of ${DECISIONS.join(', ')}`, 'decision');
  }
  const patient = value('patient');
  if (patient !== undefined && !FHIR_ID.test(patient)) {
    throw new ServiceError('INVALID_QUERY', 'patient must be a FHIR id', 'patient');
  }
  const limitText = value('limit');
  const limit = limitText === undefined ? DEFAULT_PAGE_SIZE : /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ServiceError('INVALID_QUERY', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, 'limit');
  }
  const cursor = value('cursor');
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) {
    throw new ServiceError('INVALID_QUERY', 'cursor must be the next value of a previous page', 'cursor');
  }
  return {
    limit,
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(decision !== undefined ? { decision: decision as (typeof DECISIONS)[number] } : {}),
    ...(patient !== undefined ? { patientId: patient } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}


const iso = (ms: number): string => new Date(ms).toISOString();

/** A call as reviewers read it: instants as ISO 8601, everything else as recorded. */
export function presentSummary(s: InvocationSummary): Omit<InvocationSummary, 'receivedAt'> & { receivedAt: string } {
  return { ...s, receivedAt: iso(s.receivedAt) };
}

function presentFeedback(f: FeedbackRecord): Omit<FeedbackRecord, 'outcomeAt' | 'receivedAt'> & { outcomeAt: string; receivedAt: string } {
  return { ...f, outcomeAt: iso(f.outcomeAt), receivedAt: iso(f.receivedAt) };
}

/** The determination asked for, the call it was part of, the response exactly as sent, and its feedback. */
export function presentAssertion(a: AssertionRecord): {
  determination: DeterminationRecord;
  invocation: ReturnType<typeof presentSummary>;
  response: AssertionRecord['invocation']['response'];
  feedback: ReturnType<typeof presentFeedback>[];
} {
  const { response, ...summary } = a.invocation;
  return { determination: a.determination, invocation: presentSummary(summary), response, feedback: a.feedback.map(presentFeedback) };
}
