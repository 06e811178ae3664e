import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Questionnaire } from 'fhir/r4.js';
import type { CardTemplates } from '../cds/card-templates.js';
import type { CoverageCardTemplates } from '../cds/coverage-cards.js';
import { discoveryEntries, prefetchTemplates, type ServiceDefinition } from '../cds/discovery.js';
import { FeedbackRecorder } from '../cds/feedback.js';
import { requestValidators, type FeedbackItem, type HookRequest } from '../cds/hook-request.js';
import { invocationRecord } from '../cds/invocation-record.js';
import { createOrderHook, type OrderHookResult } from '../cds/order-hook.js';
import { askableFacts, buildQuestionnaire, type QuestionnaireView } from '../cds/questionnaire.js';
import { questionnaireFormPage, responseFromForm, responsePage } from '../cds/questionnaire-page.js';
import { SharedQuestionnaires } from '../cds/shared-questionnaires.js';
import type { Config } from '../config.js';
import type { ConfigurationOptions } from '../crd/configuration.js';
import type { Plan } from '../crd/plans.js';
import { NoDataAccessError } from '../fhir/data-source.js';
import type { FhirReaderFactory } from '../fhir/fhir-reader.js';
import { PAGE_CSP, escapeHtml, htmlPage } from '../html.js';
import type { LogFields, Logger } from '../logger.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { policyPage } from '../policy/policy-page.js';
import { auditRouter } from '../review/audit-routes.js';
import { reviewPage } from '../review/review-page.js';
import { reviewVocabulary } from '../review/vocabulary.js';
import { StoreUnavailableError, type RecordOutcome, type RecordStore } from '../store/record-store.js';
import { AuthError, ClientVerifier } from './client-auth.js';
import { ServiceError, operationOutcome, toServiceError } from './errors.js';
import { SharedJtiRegistry } from './jti-registry.js';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly loaded: LoadedPolicy;
  readonly templates: CardTemplates;
  readonly services: readonly ServiceDefinition[];
  readonly readerFactory: FhirReaderFactory;
  /** The health plans this service reviews (SPEC §7.1). */
  readonly plans: readonly Plan[];
  /** Da Vinci CRD version, configuration options and card types. */
  readonly crdOptions: ConfigurationOptions;
  /** Wording of the §7.1 cards and the configuration warning. */
  readonly coverageCards: CoverageCardTemplates;
  /**
   * The durable record (issue #13): every hook call, feedback, per-determination questionnaires and client
   * token ids, shared by every replica on the same database. Opened (and migrated) before the app is built.
   */
  readonly store: RecordStore;
  /** The clock, so tests can fix "now" when an order has no authoredOn. */
  readonly clock?: () => number;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

/**
 * Builds the HTTP application without listening, so tests drive it with supertest and the server module
 * only calls listen.
 * @param deps - configuration, logger, policy, templates, services and the FHIR reader
 */
export function createApp(deps: AppDeps): express.Express {
  const { config, logger, loaded } = deps;
  const clock = deps.clock ?? Date.now;
  const { store } = deps;
  // The hook never waits longer than the record's write timeout for the database, whatever it writes.
  const waitMs = config.store.writeTimeoutMs;
  const questionnaires = new SharedQuestionnaires(store, loaded.policy, logger, { timeoutMs: waitMs, clock });
  const hooks = new Map(
    deps.services.map((s) => {
      const prefetch = prefetchTemplates(s);
      return [
        s.id,
        {
          validate: requestValidators(prefetch.map((p) => p.key)),
          handle: createOrderHook({
            loaded,
            templates: deps.templates,
            prefetch,
            gather: { readerFactory: deps.readerFactory, deadlineMs: config.fhirTimeoutMs, maxPages: config.fhirMaxPages },
            mirrorSystemActions: config.mirrorSystemActions,
            questionnaires,
            plans: deps.plans,
            crdOptions: deps.crdOptions,
            coverageCards: deps.coverageCards,
          }),
        },
      ];
    }),
  );
  const feedback = new FeedbackRecorder(store, logger);
  const discovery = { services: discoveryEntries(deps.services, deps.crdOptions) };
  const baseUrl = (req: Request): string => config.publicUrl ?? `${req.protocol}://${req.get('host') ?? `${config.host}:${config.port}`}`;

  // One verifier for the hooks and the questionnaires. A token id is accepted once across every replica: the
  // record store remembers it (src/http/jti-registry.ts says what happens while the database is away).
  const verifier =
    config.auth === 'on'
      ? new ClientVerifier({ clients: config.trustedClients, algorithms: config.jwtAlgorithms, clock, jtis: new SharedJtiRegistry(store, logger, { timeoutMs: waitMs }) })
      : undefined;

  const app = express();
  installMiddleware(app, { config, logger, clock, ...(verifier ? { verifier } : {}) });

  // CDS Hooks §Discovery
  app.get('/cds-services', (_req, res) => {
    res.json(discovery);
  });

  const serviceOf = (req: Request): { id: string; hook: NonNullable<ReturnType<typeof hooks.get>> } => {
    const id = String(req.params.id);
    const hook = hooks.get(id);
    if (!hook) {
      throw new ServiceError('UNKNOWN_SERVICE', `unknown service '${id.slice(0, 64)}'`);
    }
    return { id, hook };
  };

  // CDS Hooks §Calling a CDS Service
  app.post('/cds-services/:id', (async (req, res) => {
    const { id, hook } = serviceOf(req);
    const checked = hook.validate.hookRequest(req.body);
    if (!checked.ok) {
      throw new ServiceError('INVALID_REQUEST', checked.message, checked.field);
    }
    // The EHR's token goes to fhirServer: in production never over plain http (issue #12).
    if (config.requireHttps && checked.value.fhirServer !== undefined && !/^https:\/\//i.test(checked.value.fhirServer)) {
      throw new ServiceError('INSECURE_FHIR_SERVER', 'fhirServer is plain http; this service reads FHIR only over https in production', 'fhirServer');
    }
    const receivedAt = clock();
    const timer = performance.now();
    let result: OrderHookResult;
    try {
      result = await hook.handle(checked.value, receivedAt, baseUrl(req));
    } catch (error) {
      // CDS Hooks §Prefetch: no prefetch and no FHIR server → 412.
      if (error instanceof NoDataAccessError) {
        throw new ServiceError('NO_DATA_ACCESS');
      }
      throw error;
    }
    const durationMs = millisecondsSince(timer);
    // Issue #13 §4: the record is written before the answer goes out, with the questionnaires the cards link to
    // (one statement per batch of calls), never waiting for the database beyond the write timeout; when it was not
    // written in time, this replica serves the questionnaires itself until it is.
    const clientIss = typeof res.locals.clientIss === 'string' ? res.locals.clientIss : undefined;
    const questionnairesUntil = questionnaires.expiresAt();
    // Serialised once: the record keeps the very text the EHR receives (CRD found-37: the response exactly as sent).
    const responseText = JSON.stringify(result.response);
    const record = invocationRecord(
      loaded.policy,
      { id: randomUUID(), receivedAt, service: id, request: checked.value, durationMs, questionnairesUntil, responseText, ...(clientIss !== undefined ? { clientIss } : {}) },
      result,
    );
    const recording = performance.now();
    const outcome = await store.recordInvocation(record);
    questionnaires.settle(result.questionnaires, outcome.state, questionnairesUntil);
    const fields = { ...hookLogFields(id, checked.value, result, durationMs), ...recordLogFields(outcome, millisecondsSince(recording)) };
    if (outcome.state === 'dropped') {
      // The queue is full (database away for long): this call's record is lost, and the log says which call it was.
      logger.error(fields, 'hook answered; its record was refused: the record queue is full');
    } else {
      logger.info(fields, 'hook answered');
    }
    res.type('application/json').send(responseText);
  }) satisfies Handler);

  // CDS Hooks §Feedback
  app.post('/cds-services/:id/feedback', (async (req, res) => {
    const { id, hook } = serviceOf(req);
    const checked = hook.validate.feedback(req.body);
    if (!checked.ok) {
      throw new ServiceError('INVALID_REQUEST', checked.message, checked.field);
    }
    const items = checked.value.feedback;
    const undated = items.findIndex((item: FeedbackItem) => Number.isNaN(Date.parse(item.outcomeTimestamp)));
    if (undated >= 0) {
      throw new ServiceError('INVALID_REQUEST', 'outcomeTimestamp must be an ISO 8601 instant', `feedback.${undated}.outcomeTimestamp`);
    }
    // Kept in the record store, once per (card, outcome); a store that is away is a 503 (src/cds/feedback.ts says why).
    await fromStore(() => feedback.record(id, items, clock()));
    res.status(200).end();
  }) satisfies Handler);

  // The policy text the cards link to: the authority on what the criteria mean. A browser gets it as a page with
  // an anchor per clause (the card's clause links land there); any other client the text itself.
  app.get('/policies/:id', (req, res) => {
    if (req.params.id !== loaded.policy.id) {
      throw new ServiceError('NOT_FOUND');
    }
    res.vary('Accept');
    if (req.accepts(['text/plain', 'text/html']) === 'text/html') {
      sendPage(res, policyPage(loaded));
      return;
    }
    res.type('text/plain; charset=utf-8').send(loaded.text);
  });

  /**
   * A questionnaire by id, built for its reader (issue #12): the EHR's authenticated client (a verified client
   * JWT whose `aud` is the URL called, as on the hooks) gets what the record holds; anyone else — a clinician's
   * browser following the card's link, or any request when client authentication is off — gets the questions
   * without anything from the record.
   */
  const questionnaireFor = async (req: Request): Promise<Questionnaire> => {
    const id = String(req.params.id);
    if (id === loaded.policy.id) {
      return buildQuestionnaire(loaded.policy, baseUrl(req), askableFacts(loaded.policy), { id, title: `${loaded.policy.name} (version ${loaded.policy.version})` });
    }
    const view = await readerOf(req);
    const q = QUESTIONNAIRE_ID.test(id) ? await fromStore(() => questionnaires.get(id, view)) : undefined;
    if (!q) {
      throw new ServiceError('NOT_FOUND', 'no such questionnaire (per-order questionnaires are kept for a day)');
    }
    return q;
  };

  const readerOf = async (req: Request): Promise<QuestionnaireView> => {
    if (!verifier || req.headers.authorization === undefined) {
      return 'policy-only';
    }
    // A client that sends a token means to be the EHR: a token that fails is refused, not quietly downgraded.
    await verifyClient(verifier, req, config.audienceBase, logger);
    return 'with-record';
  };

  // The policy's questionnaire (every askable fact), and per-determination ones the cards link to. FHIR clients
  // (application/fhir+json, application/json, */*) get the resource; a browser a form to fill in.
  app.get('/Questionnaire/:id', async (req, res) => {
    const q = await questionnaireFor(req);
    res.vary('Accept');
    if (prefersHtml(req)) {
      // Relative: the form goes back to the origin the page came from, whatever CDS_PUBLIC_URL says (form-action 'self').
      sendPage(res, questionnaireFormPage(q, `${encodeURIComponent(String(req.params.id))}/response`));
      return;
    }
    res.type('application/fhir+json').send(JSON.stringify(q));
  });

  // The form's answers as a QuestionnaireResponse: shown on a page, or as FHIR JSON (a download, or a FHIR client).
  app.get('/Questionnaire/:id/response', async (req, res) => {
    const q = await questionnaireFor(req);
    const query = req.query as Record<string, unknown>;
    const made = responseFromForm(q, query, clock());
    if (!made.ok) {
      throw new ServiceError('INVALID_REQUEST', made.message, made.field);
    }
    res.vary('Accept');
    if (query._format === undefined && prefersHtml(req)) {
      const download = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string'));
      download.set('_format', 'json');
      sendPage(res, responsePage(q, made.response, `?${download.toString()}`));
      return;
    }
    if (query._format !== undefined) {
      res.setHeader('Content-Disposition', 'attachment; filename="QuestionnaireResponse.json"');
    }
    res.type('application/fhir+json').send(JSON.stringify(made.response));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // 200 whether ready or degraded (deploy/README.md): a replica whose database is away still answers hooks in
  // time, so it stays in rotation; the body says how many records wait in its queue.
  app.get('/readyz', async (_req, res) => {
    const health = await store.health();
    res.json({
      status: health.status === 'ok' ? 'ready' : 'degraded',
      queued: health.queued,
      ...(health.status === 'degraded' ? { reason: health.reason } : {}),
      store: store.engine,
      policy: `${loaded.policy.id}@${loaded.policy.version}`,
      services: deps.services.length,
    });
  });

  // The reviewers' audit API (issue #13 §3) and their dashboard (issue #14), behind their own tokens, outside the
  // CDS Hooks surface.
  if (config.reviewer.api === 'on') {
    const vocabulary = reviewVocabulary(loaded.policy, deps.templates.overrideReasons);
    app.use('/audit', auditRouter({ store, reviewer: config.reviewer, logger, vocabulary }));
    app.use('/review', reviewPage());
  }

  app.all('/cds-services', () => {
    throw new ServiceError('METHOD_NOT_ALLOWED');
  });
  app.use(() => {
    throw new ServiceError('NOT_FOUND');
  });
  app.use(errorHandler(logger));
  return app;
}

/** A per-determination questionnaire id (policy id, version, uuid, maybe -full), before the store is asked. */
const QUESTIONNAIRE_ID = /^[A-Za-z0-9.-]{1,160}$/;

/** A store that is away, in catalog terms: a 503 that says what could not be done. */
async function fromStore<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new ServiceError('STORE_UNAVAILABLE');
    }
    throw error;
  }
}

/** What the hook's log line says of its record: durable, queued or dropped, and how long the hook waited for it. */
export function recordLogFields(outcome: RecordOutcome, recordMs: number): LogFields {
  return { record: outcome.state, recordMs, ...(outcome.state !== 'durable' ? { queued: outcome.queued } : {}) };
}

/**
 * The middleware every request passes, in order: request log, CORS, client authentication on the CDS
 * endpoints, JSON parsing with the body limit, and the nesting guard. Exported so that the benchmark's
 * ceiling app runs exactly this stack.
 * @param app - the express app
 * @param deps - configuration, logger and clock
 */
export function installMiddleware(app: express.Express, deps: Pick<AppDeps, 'config' | 'logger'> & { clock: () => number; verifier?: ClientVerifier }): void {
  const { config, logger, clock } = deps;
  app.disable('x-powered-by');
  // A determination is about one patient at one moment: never cached, so no ETag to hash either.
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(requestLog(logger));
  app.use(cors(config.corsOrigins));
  // CDS Hooks §Trusting CDS Clients: every CDS endpoint (discovery, hooks, feedback) needs a verified JWT.
  if (config.auth === 'on') {
    const verifier = deps.verifier ?? new ClientVerifier({ clients: config.trustedClients, algorithms: config.jwtAlgorithms, clock });
    app.use('/cds-services', authenticate(verifier, config.audienceBase, logger));
  }
  // Clients label JSON differently (application/json, application/fhir+json, none): parse every body as JSON.
  app.use(express.json({ limit: config.bodyLimit, type: () => true, strict: true }));
  app.use(rejectDeepNesting(MAX_JSON_DEPTH));
}

/** FHIR resources nest a few levels deep; far deeper JSON is an attack on recursive code, refused up front. */
const MAX_JSON_DEPTH = 64;

/** Whether JSON nests deeper than `max`; recursion is bounded by `max` itself, so it cannot overflow. */
function depthExceeds(value: unknown, max: number, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (depth >= max) {
    return true;
  }
  if (Array.isArray(value)) {
    for (const child of value) {
      if (typeof child === 'object' && child !== null && depthExceeds(child, max, depth + 1)) {
        return true;
      }
    }
    return false;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && depthExceeds(child, max, depth + 1)) {
      return true;
    }
  }
  return false;
}

function rejectDeepNesting(max: number): express.RequestHandler {
  return (req, _res, next) => {
    if (depthExceeds(req.body, max)) {
      throw new ServiceError('INVALID_REQUEST', `the request body nests deeper than ${max} levels`);
    }
    next();
  };
}

/** CORS for browser clients such as the CDS Hooks sandbox; trust rests on the JWT, not the origin. */
function cors(origins: '*' | readonly string[]): express.RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && (origins === '*' || origins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
      if (origins !== '*') {
        res.setHeader('Vary', 'Origin');
      }
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * Verifies the client's JWT with `aud` = the exact URL called. Any failure is a bare 401: the reason goes
 * to the log, never to the caller, and the token itself goes nowhere.
 */
function authenticate(verifier: ClientVerifier, audienceBase: string, logger: Logger): express.RequestHandler {
  return async (req, res, next) => {
    // The verified issuer goes into the call's record (issue #13 §2); nothing else of the token is kept.
    res.locals.clientIss = await verifyClient(verifier, req, audienceBase, logger);
    next();
  };
}

/**
 * Verifies the client JWT of one request against the URL it called; a failure is logged and becomes a bare 401.
 * @returns the verified issuer
 */
async function verifyClient(verifier: ClientVerifier, req: Request, audienceBase: string, logger: Logger): Promise<string | undefined> {
  const path = req.originalUrl.split('?')[0]?.replace(/\/+$/, '') ?? '';
  try {
    const claims = await verifier.verify(req.headers.authorization, `${audienceBase}${path}`);
    return claims.iss;
  } catch (error) {
    const e = error instanceof AuthError ? error : new AuthError('invalid-signature-or-claims');
    logger.warn({ event: 'unauthorized', reason: e.failure, ...(e.issuer !== undefined ? { issuer: e.issuer } : {}) }, 'client authentication failed');
    throw new ServiceError('UNAUTHORIZED');
  }
}

/** Whether the caller would rather have a page than JSON: a browser, not a FHIR client (whose "any type" Accept means JSON). */
function prefersHtml(req: Request): boolean {
  return req.accepts(['application/fhir+json', 'application/json', 'text/html']) === 'text/html';
}

/** Sends one of the service's pages, under the pages' Content-Security-Policy. */
function sendPage(res: Response, html: string): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.type('text/html; charset=utf-8').send(html);
}

/**
 * What the log says about one hook call: decisions and counts, never data. Exported so that the benchmark's
 * replay of the service writes the same line.
 * @param service - the service id
 * @param request - the validated hook request
 * @param result - what the hook answered
 * @param durationMs - how long the hook took
 */
export function hookLogFields(service: string, request: HookRequest, result: OrderHookResult, durationMs: number): LogFields {
  return {
    event: 'hook',
    service,
    hook: request.hook,
    // Client-supplied: logged only when it has the shape of an identifier, so free text never reaches the log.
    hookInstance: /^[A-Za-z0-9._-]{1,64}$/.test(request.hookInstance) ? request.hookInstance : 'not-an-identifier',
    orders: result.decisions.length,
    decisions: result.decisions,
    fhirRequests: result.fhirRequests,
    ...(result.unchecked.length > 0 ? { unchecked: result.unchecked } : {}),
    // CRD dev-6: which options of the request's configuration could not be applied (codes, never values).
    ...(result.configuration.length > 0 ? { configuration: result.configuration } : {}),
    // Counts only: note text never reaches a log line (SPEC §8.1).
    ...(result.notes ? { notesRead: result.notes.read, ...(result.notes.unread.length > 0 ? { notesUnread: result.notes.unread } : {}) } : {}),
    durationMs,
  };
}

/**
 * Milliseconds since a `performance.now()` reading, to a hundredth: durations come from the monotonic timer,
 * not the injectable wall clock, so a hook that takes a fraction of a millisecond does not log 0 or 1.
 */
function millisecondsSince(timer: number): number {
  return Math.round((performance.now() - timer) * 100) / 100;
}

/** Logs method, route, status and duration of every request; never headers or bodies. */
function requestLog(logger: Logger): express.RequestHandler {
  return (req, res, next) => {
    const timer = performance.now();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      logger.info({ event: 'request', method: req.method, route, status: res.statusCode, durationMs: millisecondsSince(timer) }, 'request');
    });
    next();
  };
}

/**
 * The one place errors become HTTP: catalog status and an OperationOutcome body. Exported so that routers
 * built apart from createApp (the reviewers' audit API) answer through it too.
 */
export function errorHandler(logger: Logger): express.ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toServiceError(error);
    if (e.status >= 500) {
      logger.error({ event: 'error', code: e.code, errorName: error instanceof Error ? error.name : typeof error }, 'request failed');
    } else {
      logger.warn({ event: 'rejected', code: e.code, ...(e.field !== undefined ? { field: e.field } : {}) }, 'request rejected');
    }
    if (res.headersSent) {
      return;
    }
    if (e.status === 401) {
      res.setHeader('WWW-Authenticate', 'Bearer');
    }
    const outcome = operationOutcome(e);
    // A clinician's browser that followed a stale link reads the same OperationOutcome as a page.
    if (req.method === 'GET' && prefersHtml(req)) {
      res.status(e.status);
      sendPage(res, errorPage(e.status, outcome));
      return;
    }
    res.status(e.status).type('application/fhir+json').send(JSON.stringify(outcome));
  };
}

/** An error as a page: the OperationOutcome's text, and the resource itself. */
function errorPage(status: number, outcome: ReturnType<typeof operationOutcome>): string {
  const issue = outcome.issue[0];
  const text = [issue?.details?.text, issue?.diagnostics].filter((x): x is string => typeof x === 'string').join(': ');
  return htmlPage(`Error ${status}`, `<h1>Error ${status}</h1>\n<p>${escapeHtml(text)}</p>\n<pre>${escapeHtml(JSON.stringify(outcome, null, 2))}</pre>`);
}
