import { CompiledQuery, Migrator, sql, type Kysely, type Selectable } from 'kysely';
import type { Decision } from '../engine/decide.js';
import type { Logger } from '../logger.js';
import { migrationProvider } from './migrations/index.js';
import {
  DECISIONS,
  EVIDENCE_SOURCES,
  InvalidCursorError,
  MAX_PAGE_SIZE,
  StoreUnavailableError,
  type AssertionRecord,
  type CleanupResult,
  type CriterionOverrideCount,
  type DashboardFilter,
  type DecisionDayCount,
  type DeterminationPage,
  type DeterminationQuery,
  type DurationDay,
  type FactSourceCount,
  type FeedbackCount,
  type FhirFailures,
  type MissingFacts,
  type NotesUnreadCount,
  type OrderCodeCount,
  type OverrideReasonCount,
  type DeterminationRecord,
  type EvidenceRecord,
  type EvidenceSource,
  type FeedbackRecord,
  type FlushResult,
  type InvocationPage,
  type InvocationQuery,
  type InvocationRecord,
  type InvocationSummary,
  type JsonValue,
  type RecordOutcome,
  type RecordStore,
  type StoreHealth,
} from './record-store.js';
import type { Database, DeterminationTable, FeedbackTable, InvocationTable } from './schema.js';
import { WriteQueue, sqlState } from './write-queue.js';
import * as dashboard from './dashboard-sql.js';

export interface SqlStoreOptions {
  readonly engine: RecordStore['engine'];
  readonly logger: Logger;
  /** Records held in memory at most while the database is away. */
  readonly queueMax: number;
  /** How long recordInvocation waits for its commit before answering 'queued'. */
  readonly writeTimeoutMs: number;
  /** Rows deleted per statement by cleanup, and the pause between statements. */
  readonly cleanupBatch?: number;
  readonly cleanupPauseMs?: number;
  /** Queue tuning (tests shorten these). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly warnEveryMs?: number;
  readonly clock?: () => number;
  /**
   * Where the tables live, and whether the migrations have been applied. A PostgreSQL that could not be reached
   * at start gives a store whose tables are not known to be current (`migrated: false`): every statement then
   * applies the migrations first, so the record waits in the queue until the database answers and its tables
   * are current.
   */
  readonly schema?: string;
  readonly migrated?: boolean;
  /**
   * Runs INSERT_BATCH with its three parameters, when the engine has a faster way than the query builder's
   * (PostgreSQL: a named prepared statement, parsed and planned once per connection).
   */
  readonly insertBatch?: (values: readonly [string, string, string]) => Promise<void>;
}

/**
 * Applies every migration not yet applied (Kysely's Migrator: versioned, in order, under an advisory lock,
 * each in a transaction), so replicas starting together apply each migration once.
 * @param db - the database
 * @param schema - where the tables and Kysely's bookkeeping tables live
 */
export async function migrate(db: Kysely<Database>, schema: string): Promise<readonly string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema: schema });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw error instanceof Error ? error : new Error('migration failed');
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * SQLSTATE classes that say the statement or its data is wrong (22 data exception, 23 integrity constraint,
 * 42 syntax or access rule, 54 program limit): retrying the same record cannot help. Anything else (no
 * connection, admin shutdown, out of resources, serialization failure) is the database being away or busy.
 */
export function isPermanentSqlError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42|54)[0-9A-Z]{3}$/.test(code);
}

/** A cursor: the (received_at, id) of the last row of the previous page. */
interface Cursor {
  readonly at: number;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

/** Reads a cursor this store issued; anything else is refused. */
export function decodeCursor(raw: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && UUID.test(value[1])) {
      return { at: value[0] as number, id: value[1] };
    }
  } catch {
    // falls through
  }
  throw new InvalidCursorError('cursor is not one this service issued');
}

/** PostgreSQL text cannot hold NUL, nor jsonb a lone surrogate: both become U+FFFD, the rest is kept. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE, '\uFFFD') : s;
}

function texts(list: readonly string[]): string[] {
  return list.map(text);
}

function nullable(s: string | undefined): string | null {
  return s === undefined ? null : text(s);
}

function evidenceOf(e: EvidenceRecord): EvidenceRecord {
  return {
    fact: text(e.fact),
    reference: text(e.reference),
    ...(e.assertion !== undefined ? { assertion: text(e.assertion) } : {}),
    ...(e.span !== undefined ? { span: { in: text(e.span.in), start: e.span.start, end: e.span.end } } : {}),
    ...(e.quote !== undefined ? { quote: text(e.quote) } : {}),
    source: e.source,
  };
}

function factSources(evidence: readonly EvidenceRecord[]): EvidenceSource[] {
  return EVIDENCE_SOURCES.filter((s) => evidence.some((e) => e.source === s));
}

function notesUnreadOf(counts: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) {
    out[text(k)] = v;
  }
  return out;
}

/**
 * A batch of records as the three JSON arrays the insert statement reads (json_to_recordset): the calls, their
 * determinations and the questionnaires their cards link to. Text the columns cannot hold is replaced first
 * (text()); the response and the questionnaires go into json columns as JSON.stringify writes them, so the
 * response's text, key order included, is the one sent.
 */
export function batchOf(records: readonly InvocationRecord[]): { invocations: string; determinations: string; questionnaires: string } {
  const invocations: unknown[] = [];
  const determinations: unknown[] = [];
  const questionnaires: unknown[] = [];
  for (const r of records) {
    const receivedAt = new Date(r.receivedAt).toISOString();
    invocations.push({
      id: r.id,
      received_at: receivedAt,
      hook: text(r.hook),
      hook_instance: text(r.hookInstance),
      service: text(r.service),
      client_iss: nullable(r.clientIss),
      patient_id: text(r.patientId),
      orders: texts(r.orders),
      policy_id: text(r.policy.id),
      policy_version: text(r.policy.version),
      decisions: [...new Set(r.determinations.map((d) => d.decision))],
      unreadable: texts(r.unreadable),
      fhir_requests: r.fhirRequests,
      duration_ms: r.durationMs,
      // The response's own JSON text, as a string: json keeps every byte of it, NUL escapes and lone surrogates
      // included (json, unlike jsonb and text, accepts \u0000), which json_to_recordset would refuse in an object.
      response: r.responseText ?? JSON.stringify(r.response),
    });
    r.determinations.forEach((d, position) => {
      const evidence = d.evidence.map(evidenceOf);
      determinations.push({
        invocation_id: r.id,
        position,
        received_at: receivedAt,
        order_ref: text(d.order),
        order_code: nullable(d.orderCode),
        decision: d.decision,
        card_uuid: nullable(d.cardUuid),
        satisfied: texts(d.satisfied),
        missing: texts(d.missing),
        evidence,
        fact_sources: factSources(evidence),
        coverage_assertion_id: nullable(d.coverageAssertionId),
        satisfied_pa_id: nullable(d.satisfiedPaId),
        covered: nullable(d.covered),
        main_reason: nullable(d.mainReason),
        notes_unread: d.notesUnread !== undefined ? notesUnreadOf(d.notesUnread) : null,
      });
    });
    for (const q of r.questionnaires ?? []) {
      questionnaires.push({ id: text(q.id), payload: JSON.stringify(q.payload), expires_at: new Date(q.expiresAt).toISOString() });
    }
  }
  return { invocations: JSON.stringify(invocations), determinations: JSON.stringify(determinations), questionnaires: JSON.stringify(questionnaires) };
}

/**
 * One statement for a batch of calls: their rows, their determinations and their questionnaires, atomic without
 * a transaction's extra round trips, and a fixed text with three parameters whatever the batch's size. Written
 * as SQL rather than with the query builder because it was measured on the service's own record (a 6 KB response,
 * one determination per call, batches of 16): the builder's multi-row VALUES took 240–440 µs of the service's CPU
 * per call, this 105–125 µs, the database's work being about the same.
 * A record written twice (a commit whose answer was lost, then retried) is kept once.
 */
export const INSERT_BATCH = `with calls as (
  insert into invocation (id, received_at, hook, hook_instance, service, client_iss, patient_id, orders, policy_id, policy_version, decisions, unreadable, fhir_requests, duration_ms, response)
  select id, received_at, hook, hook_instance, service, client_iss, patient_id, orders, policy_id, policy_version, decisions, unreadable, fhir_requests, duration_ms, response::json
  from json_to_recordset($1::json) as r(id uuid, received_at timestamptz, hook text, hook_instance text, service text, client_iss text, patient_id text, orders text[],
    policy_id text, policy_version text, decisions text[], unreadable text[], fhir_requests integer, duration_ms double precision, response text)
  on conflict (id) do nothing
  returning id
), determinations as (
  insert into determination (invocation_id, position, received_at, order_ref, order_code, decision, card_uuid, satisfied, missing, evidence, fact_sources,
    coverage_assertion_id, satisfied_pa_id, covered, main_reason, notes_unread)
  select invocation_id, position, received_at, order_ref, order_code, decision, card_uuid, satisfied, missing, evidence, fact_sources,
    coverage_assertion_id, satisfied_pa_id, covered, main_reason, notes_unread
  from json_to_recordset($2::json) as d(invocation_id uuid, position smallint, received_at timestamptz, order_ref text, order_code text, decision text, card_uuid text,
    satisfied text[], missing text[], evidence jsonb, fact_sources text[], coverage_assertion_id text, satisfied_pa_id text, covered text, main_reason text, notes_unread jsonb)
  on conflict (invocation_id, position) do nothing
)
insert into questionnaire (id, payload, expires_at)
select id, payload::json, expires_at from json_to_recordset($3::json) as q(id text, payload text, expires_at timestamptz)
on conflict (id) do update set payload = excluded.payload, expires_at = excluded.expires_at`;

const SUMMARY_COLUMNS = [
  'id',
  'received_at',
  'hook',
  'hook_instance',
  'service',
  'client_iss',
  'patient_id',
  'orders',
  'policy_id',
  'policy_version',
  'unreadable',
  'fhir_requests',
  'duration_ms',
] as const;

type SummaryRow = Pick<Selectable<InvocationTable>, (typeof SUMMARY_COLUMNS)[number]>;

function isDecision(value: string): value is Decision {
  return (DECISIONS as readonly string[]).includes(value);
}

function determinationOf(row: Selectable<DeterminationTable>): DeterminationRecord {
  if (!isDecision(row.decision)) {
    // The column's CHECK constraint makes this unreachable; a reader must not invent a decision.
    throw new Error('recorded decision is not one of the three');
  }
  return {
    order: row.order_ref,
    ...(row.order_code !== null ? { orderCode: row.order_code } : {}),
    decision: row.decision,
    ...(row.card_uuid !== null ? { cardUuid: row.card_uuid } : {}),
    satisfied: row.satisfied,
    missing: row.missing,
    evidence: row.evidence as EvidenceRecord[],
    ...(row.coverage_assertion_id !== null ? { coverageAssertionId: row.coverage_assertion_id } : {}),
    ...(row.satisfied_pa_id !== null ? { satisfiedPaId: row.satisfied_pa_id } : {}),
    ...(row.covered !== null ? { covered: row.covered } : {}),
    ...(row.main_reason !== null ? { mainReason: row.main_reason } : {}),
    ...(row.notes_unread !== null ? { notesUnread: row.notes_unread as Record<string, number> } : {}),
  };
}

function summaryOf(row: SummaryRow, determinations: readonly DeterminationRecord[]): InvocationSummary {
  return {
    id: row.id,
    receivedAt: row.received_at.getTime(),
    hook: row.hook,
    hookInstance: row.hook_instance,
    service: row.service,
    ...(row.client_iss !== null ? { clientIss: row.client_iss } : {}),
    patientId: row.patient_id,
    orders: row.orders,
    policy: { id: row.policy_id, version: row.policy_version },
    determinations,
    unreadable: row.unreadable,
    fhirRequests: row.fhir_requests,
    durationMs: row.duration_ms,
  };
}

function feedbackOf(row: Selectable<FeedbackTable>): FeedbackRecord {
  const outcome = row.outcome === 'overridden' ? 'overridden' : 'accepted';
  const reason = {
    ...(row.override_reason_code !== null ? { code: row.override_reason_code } : {}),
    ...(row.override_reason_system !== null ? { system: row.override_reason_system } : {}),
  };
  return {
    service: row.service,
    cardUuid: row.card_uuid,
    outcome,
    outcomeAt: row.outcome_at.getTime(),
    receivedAt: row.received_at.getTime(),
    acceptedSuggestions: row.accepted_suggestions,
    ...(Object.keys(reason).length > 0 ? { overrideReason: reason } : {}),
    ...(row.user_comment !== null ? { userComment: row.user_comment } : {}),
  };
}

const DAY_MS = 86_400_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The record over SQL: one implementation for both engines, PostgreSQL through `pg` and embedded PGlite
 * through the in-repo dialect, behind Kysely (src/store/README.md says why).
 */
export class SqlRecordStore implements RecordStore {
  readonly engine: RecordStore['engine'];
  private readonly queue: WriteQueue<InvocationRecord>;
  private readonly clock: () => number;
  private migrated: boolean;
  private migrating: Promise<void> | undefined;

  /**
   * @param db - the database, already migrated (see openSqlStore)
   * @param options - engine, queue and cleanup settings
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: SqlStoreOptions,
  ) {
    this.engine = options.engine;
    this.clock = options.clock ?? Date.now;
    this.migrated = options.migrated ?? true;
    this.queue = new WriteQueue((batch) => this.insert(batch), {
      max: options.queueMax,
      writeTimeoutMs: options.writeTimeoutMs,
      logger: options.logger,
      isPermanent: isPermanentSqlError,
      ...(options.retryInitialMs !== undefined ? { retryInitialMs: options.retryInitialMs } : {}),
      ...(options.retryMaxMs !== undefined ? { retryMaxMs: options.retryMaxMs } : {}),
      ...(options.warnEveryMs !== undefined ? { warnEveryMs: options.warnEveryMs } : {}),
    });
  }

  recordInvocation(record: InvocationRecord): Promise<RecordOutcome> {
    return this.queue.add(record);
  }

  /** One statement per batch (INSERT_BATCH): the calls, their determinations and their questionnaires. */
  private async insert(records: readonly InvocationRecord[]): Promise<void> {
    await this.current();
    const batch = batchOf(records);
    const values = [batch.invocations, batch.determinations, batch.questionnaires] as const;
    if (this.options.insertBatch) {
      await this.options.insertBatch(values);
      return;
    }
    await this.db.executeQuery(CompiledQuery.raw(INSERT_BATCH, [...values]));
  }

  async getAssertion(id: string): Promise<AssertionRecord | undefined> {
    return this.run(async () => {
      const match = await this.db
        .selectFrom('determination')
        .select(['invocation_id', 'position'])
        .where((eb) => eb.or([eb('coverage_assertion_id', '=', id), eb('satisfied_pa_id', '=', id)]))
        .limit(1)
        .executeTakeFirst();
      return match ? this.assertionAt(match.invocation_id, match.position) : undefined;
    });
  }

  /** The determination at a position of a call, with the call (response included) and its card's feedback. */
  private async assertionAt(invocationId: string, position: number): Promise<AssertionRecord | undefined> {
    const [call, rows] = await Promise.all([
      this.db.selectFrom('invocation').selectAll().where('id', '=', invocationId).executeTakeFirst(),
      this.db.selectFrom('determination').selectAll().where('invocation_id', '=', invocationId).orderBy('position').execute(),
    ]);
    const row = rows.find((r) => r.position === position);
    if (!call || !row) {
      return undefined;
    }
    const feedback =
      row.card_uuid !== null
        ? await this.db.selectFrom('feedback').selectAll().where('card_uuid', '=', row.card_uuid).orderBy('received_at').orderBy('outcome').execute()
        : [];
    const determinations = rows.map(determinationOf);
    return {
      invocation: { ...summaryOf(call, determinations), response: call.response as object },
      determination: determinationOf(row),
      feedback: feedback.map(feedbackOf),
    };
  }

  // The reviewers' dashboard (issue #14): one statement each, in dashboard-sql.ts.

  decisionsPerDay(filter: DashboardFilter): Promise<readonly DecisionDayCount[]> {
    return this.run(() => dashboard.decisionsPerDay(this.db, filter));
  }

  orderCodes(filter: DashboardFilter): Promise<readonly OrderCodeCount[]> {
    return this.run(() => dashboard.orderCodes(this.db, filter));
  }

  factSources(filter: DashboardFilter): Promise<readonly FactSourceCount[]> {
    return this.run(() => dashboard.factSources(this.db, filter));
  }

  missingFacts(filter: DashboardFilter, limit: number): Promise<MissingFacts> {
    return this.run(() => dashboard.missingFacts(this.db, filter, limit));
  }

  feedbackByDecision(filter: DashboardFilter): Promise<readonly FeedbackCount[]> {
    return this.run(() => dashboard.feedbackByDecision(this.db, filter));
  }

  overrideReasons(filter: DashboardFilter): Promise<readonly OverrideReasonCount[]> {
    return this.run(() => dashboard.overrideReasons(this.db, filter));
  }

  overridesByCriterion(filter: DashboardFilter): Promise<readonly CriterionOverrideCount[]> {
    return this.run(() => dashboard.overridesByCriterion(this.db, filter));
  }

  fhirFailures(filter: DashboardFilter): Promise<FhirFailures> {
    return this.run(() => dashboard.fhirFailures(this.db, filter));
  }

  hookDurations(filter: DashboardFilter): Promise<readonly DurationDay[]> {
    return this.run(() => dashboard.hookDurations(this.db, filter));
  }

  notesUnread(filter: DashboardFilter): Promise<readonly NotesUnreadCount[]> {
    return this.run(() => dashboard.notesUnread(this.db, filter));
  }

  listDeterminations(query: DeterminationQuery): Promise<DeterminationPage> {
    return this.run(() => dashboard.listDeterminations(this.db, query));
  }

  async getDetermination(id: string): Promise<AssertionRecord | undefined> {
    const line = dashboard.parseLineId(id);
    if (line === undefined) {
      return undefined;
    }
    return this.run(() => this.assertionAt(line.invocationId, line.position));
  }

  async listInvocations(query: InvocationQuery): Promise<InvocationPage> {
    const limit = Math.min(Math.max(1, Math.trunc(query.limit)), MAX_PAGE_SIZE);
    const cursor = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    return this.run(async () => {
      let q = this.db.selectFrom('invocation').select(SUMMARY_COLUMNS);
      if (query.since !== undefined) {
        q = q.where('received_at', '>=', new Date(query.since));
      }
      if (query.until !== undefined) {
        q = q.where('received_at', '<', new Date(query.until));
      }
      if (query.patientId !== undefined) {
        q = q.where('patient_id', '=', query.patientId);
      }
      if (query.decision !== undefined) {
        const decision = query.decision;
        q = q.where(sql<boolean>`${decision} = any(decisions)`);
      }
      if (cursor !== undefined) {
        // Keyset: strictly after the last row shown, in (received_at, id) order. A row inserted meanwhile
        // is either newer (and belongs to pages already read) or older and not yet reached: none is
        // skipped or shown twice.
        q = q.where((eb) => eb(eb.refTuple('received_at', 'id'), '<', eb.tuple(new Date(cursor.at), cursor.id)));
      }
      const rows = await q.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const ids = page.map((r) => r.id);
      const determinations =
        ids.length > 0 ? await this.db.selectFrom('determination').selectAll().where('invocation_id', 'in', ids).orderBy('invocation_id').orderBy('position').execute() : [];
      const byCall = new Map<string, DeterminationRecord[]>();
      for (const d of determinations) {
        const list = byCall.get(d.invocation_id) ?? [];
        list.push(determinationOf(d));
        byCall.set(d.invocation_id, list);
      }
      const last = page[page.length - 1];
      return {
        items: page.map((r) => summaryOf(r, byCall.get(r.id) ?? [])),
        ...(rows.length > limit && last !== undefined ? { next: encodeCursor({ at: last.received_at.getTime(), id: last.id }) } : {}),
      };
    });
  }

  async recordFeedback(items: readonly FeedbackRecord[]): Promise<number> {
    if (items.length === 0) {
      return 0;
    }
    return this.run(async () => {
      const inserted = await this.db
        .insertInto('feedback')
        .values(
          items.map((f) => ({
            card_uuid: text(f.cardUuid),
            outcome: f.outcome,
            service: text(f.service),
            outcome_at: new Date(f.outcomeAt),
            received_at: new Date(f.receivedAt),
            accepted_suggestions: texts(f.acceptedSuggestions),
            override_reason_code: nullable(f.overrideReason?.code),
            override_reason_system: nullable(f.overrideReason?.system),
            user_comment: nullable(f.userComment),
          })),
        )
        .onConflict((oc) => oc.columns(['card_uuid', 'outcome']).doNothing())
        .returning('card_uuid')
        .execute();
      return inserted.length;
    });
  }

  async putQuestionnaire(id: string, questionnaire: object, expiresAt: number): Promise<void> {
    await this.run(() =>
      this.db
        .insertInto('questionnaire')
        .values({ id: text(id), payload: JSON.stringify(questionnaire), expires_at: new Date(expiresAt) })
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), expires_at: eb.ref('excluded.expires_at') })))
        .execute(),
    );
  }

  async getQuestionnaire(id: string, now = this.clock()): Promise<JsonValue | undefined> {
    return this.run(async () => {
      const row = await this.db.selectFrom('questionnaire').select('payload').where('id', '=', text(id)).where('expires_at', '>', new Date(now)).executeTakeFirst();
      return row ? (row.payload as JsonValue) : undefined;
    });
  }

  async claimJti(issuer: string, jti: string, expiresAt: number): Promise<boolean> {
    const now = new Date(this.clock());
    return this.run(async () => {
      // One statement, so two replicas racing on the same jti cannot both win: the insert of the first
      // makes the second a conflict, and a conflict only claims a row whose token has expired.
      const rows = await this.db
        .insertInto('jti_seen')
        .values({ issuer: text(issuer), jti: text(jti), expires_at: new Date(expiresAt) })
        .onConflict((oc) =>
          oc
            .columns(['issuer', 'jti'])
            .doUpdateSet((eb) => ({ expires_at: eb.ref('excluded.expires_at') }))
            .where('jti_seen.expires_at', '<', now),
        )
        .returning('jti')
        .execute();
      return rows.length === 1;
    });
  }

  async cleanup(now: number, retentionDays: number): Promise<CleanupResult> {
    const cutoff = new Date(now - retentionDays * DAY_MS);
    const nowDate = new Date(now);
    const batch = this.options.cleanupBatch ?? 1_000;
    const invocations = await this.deleteInBatches(() =>
      this.db
        .deleteFrom('invocation')
        .where('id', 'in', (eb) => eb.selectFrom('invocation').select('id').where('received_at', '<', cutoff).limit(batch))
        .executeTakeFirst(),
    );
    const feedback = await this.deleteInBatches(() =>
      this.db
        .deleteFrom('feedback')
        .where(sql<boolean>`(card_uuid, outcome) in (select card_uuid, outcome from feedback where received_at < ${cutoff} limit ${batch})`)
        .executeTakeFirst(),
    );
    const questionnaires = await this.deleteInBatches(() =>
      this.db
        .deleteFrom('questionnaire')
        .where('id', 'in', (eb) => eb.selectFrom('questionnaire').select('id').where('expires_at', '<=', nowDate).limit(batch))
        .executeTakeFirst(),
    );
    const jtis = await this.deleteInBatches(() =>
      this.db
        .deleteFrom('jti_seen')
        .where(sql<boolean>`(issuer, jti) in (select issuer, jti from jti_seen where expires_at < ${nowDate} limit ${batch})`)
        .executeTakeFirst(),
    );
    if (this.engine === 'pglite') {
      // Embedded PostgreSQL runs no autovacuum: without it the dashboard's covering indexes (migration 0002) could
      // not answer from the index alone, and statistics would go stale. PostgreSQL's own autovacuum does this there.
      await this.run(() => sql`vacuum (analyze) invocation, determination, feedback`.execute(this.db));
    }
    return { invocations, feedback, questionnaires, jtis };
  }

  /**
   * Runs a bounded delete until it deletes less than a full batch, pausing between statements so that
   * record writes and reads interleave (PGlite has one connection; PostgreSQL locks only the batch).
   */
  private async deleteInBatches(step: () => Promise<{ numDeletedRows: bigint }>): Promise<number> {
    const batch = this.options.cleanupBatch ?? 1_000;
    let total = 0;
    for (;;) {
      const { numDeletedRows } = await this.run(step);
      const n = Number(numDeletedRows);
      total += n;
      if (n < batch) {
        return total;
      }
      await sleep(this.options.cleanupPauseMs ?? 20);
    }
  }

  async health(): Promise<StoreHealth> {
    const queued = this.queue.length;
    if (this.queue.unreachable) {
      return { status: 'degraded', queued, reason: 'unreachable' };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.current().then(() => sql`select 1`.execute(this.db)),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new StoreUnavailableError('the database did not answer within a second')), 1_000);
        }),
      ]);
    } catch {
      return { status: 'degraded', queued, reason: 'unreachable' };
    } finally {
      clearTimeout(timer);
    }
    return queued * 2 >= this.options.queueMax ? { status: 'degraded', queued, reason: 'backlog' } : { status: 'ok', queued };
  }

  flush(timeoutMs?: number): Promise<FlushResult> {
    return this.queue.flush(timeoutMs);
  }

  async close(timeoutMs?: number): Promise<FlushResult> {
    const result = await this.queue.close(timeoutMs);
    await this.db.destroy();
    return result;
  }

  /**
   * Resolves once the tables are current: at once for a store whose migrations ran at start; otherwise the
   * migrations are applied now (one attempt at a time). A failure is the database being away, whatever its
   * SQLSTATE: records must keep waiting in the queue, never be set aside as unwritable because the tables
   * are not there yet.
   */
  private async current(): Promise<void> {
    if (this.migrated) {
      return;
    }
    this.migrating ??= migrate(this.db, this.options.schema ?? 'public')
      .then((applied) => {
        this.migrated = true;
        this.options.logger.info({ event: 'store-ready', engine: this.engine, migrations: applied }, 'the database answers; record store ready');
      })
      .finally(() => {
        this.migrating = undefined;
      });
    try {
      await this.migrating;
    } catch (error) {
      const state = sqlState(error).code;
      throw new StoreUnavailableError(`the database's tables could not be brought up to date${state !== undefined ? ` (${state})` : ''}`, { cause: error });
    }
  }

  /** Runs a statement; a database that is away becomes StoreUnavailableError (its message holds no data). */
  private async run<T>(run: () => Promise<T>): Promise<T> {
    try {
      await this.current();
      return await run();
    } catch (error) {
      if (error instanceof InvalidCursorError || error instanceof StoreUnavailableError || isPermanentSqlError(error)) {
        throw error;
      }
      const state = sqlState(error).code;
      throw new StoreUnavailableError(`the database could not be reached${state !== undefined ? ` (${state})` : ''}`, { cause: error });
    }
  }
}
