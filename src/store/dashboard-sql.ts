import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Decision } from '../engine/decide.js';
import {
  DECISIONS,
  EVIDENCE_SOURCES,
  InvalidCursorError,
  MAX_EXPORT_PAGE_SIZE,
  type CriterionOverrideCount,
  type DashboardFilter,
  type DecisionDayCount,
  type DeterminationLine,
  type DeterminationPage,
  type DeterminationQuery,
  type DurationDay,
  type EvidenceSource,
  type FactSourceCount,
  type FeedbackCount,
  type FhirFailures,
  type MissingFacts,
  type NotesUnreadCount,
  type OrderCodeCount,
  type OverrideReasonCount,
} from './record-store.js';
import type { Database } from './schema.js';

/**
 * The reviewers' dashboard in SQL (issue #14). Every question is one statement grouped over the columns
 * migration 0002's covering indexes hold (determination_period, invocation_period), so a period is read from the
 * index, not from the wide rows with their evidence and responses;
 * none reads the response bodies, none loads the records into memory. Days are UTC days: the same figure
 * whichever time zone the reviewer's browser is in. Counts are cast to int so both engines return numbers.
 */

type Db = Kysely<Database>;

function decisionOf(value: string): Decision {
  const decision = DECISIONS.find((d) => d === value);
  if (decision === undefined) {
    // The column's CHECK constraint makes this unreachable; a reader must not invent a decision.
    throw new Error('recorded decision is not one of the three');
  }
  return decision;
}

function sourcesOf(value: readonly string[]): EvidenceSource[] {
  return EVIDENCE_SOURCES.filter((s) => value.includes(s));
}

/** The period and order code over `determination d`. */
function determinationsIn(f: DashboardFilter): RawBuilder<boolean> {
  const code = f.orderCode !== undefined ? sql`and d.order_code = ${f.orderCode}` : sql``;
  return sql<boolean>`d.received_at >= ${new Date(f.since)} and d.received_at < ${new Date(f.until)} ${code}`;
}

/** The period over `invocation i`; with an order code, only calls that decided an order with that code. */
function invocationsIn(f: DashboardFilter): RawBuilder<boolean> {
  const code =
    f.orderCode !== undefined
      ? sql`and exists (select 1 from determination d where d.invocation_id = i.id and d.order_code = ${f.orderCode})`
      : sql``;
  return sql<boolean>`i.received_at >= ${new Date(f.since)} and i.received_at < ${new Date(f.until)} ${code}`;
}

/** The UTC day as a number (days since 1970-01-01): cheaper to group by than a formatted date. */
const UTC_DAY = sql`floor(extract(epoch from received_at) / 86400)::int`;

/** A UTC day number as YYYY-MM-DD. */
function dayOf(n: number): string {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}

export async function decisionsPerDay(db: Db, f: DashboardFilter): Promise<DecisionDayCount[]> {
  const { rows } = await sql<{ day: number; decision: string; determinations: number }>`
    select ${UTC_DAY} as day, decision, count(*)::int as determinations
    from determination d where ${determinationsIn(f)}
    group by 1, 2 order by 1, 2`.execute(db);
  return rows.map((r) => ({ day: dayOf(r.day), decision: decisionOf(r.decision), determinations: r.determinations }));
}

export async function orderCodes(db: Db, f: DashboardFilter): Promise<OrderCodeCount[]> {
  const { rows } = await sql<{ order_code: string | null; decision: string; determinations: number }>`
    select order_code, decision, count(*)::int as determinations
    from determination d where ${determinationsIn({ since: f.since, until: f.until })}
    group by 1, 2 order by 1 nulls last, 2`.execute(db);
  return rows.map((r) => ({ orderCode: r.order_code, decision: decisionOf(r.decision), determinations: r.determinations }));
}

export async function factSources(db: Db, f: DashboardFilter): Promise<FactSourceCount[]> {
  // fact_sources is written in EVIDENCE_SOURCES order (sql-store.ts), so equal sets group together.
  const { rows } = await sql<{ decision: string; sources: string[]; determinations: number }>`
    select decision, fact_sources as sources, count(*)::int as determinations
    from determination d where ${determinationsIn(f)}
    group by 1, 2`.execute(db);
  return rows.map((r) => ({ decision: decisionOf(r.decision), sources: sourcesOf(r.sources), determinations: r.determinations }));
}

export async function missingFacts(db: Db, f: DashboardFilter, limit: number): Promise<MissingFacts> {
  const [total, facts] = await Promise.all([
    sql<{ n: number }>`
      select count(*)::int as n from determination d
      where ${determinationsIn(f)} and d.decision = 'documentation-needed'`.execute(db),
    // Grouped by the whole list first: cards repeat the same few lists, so far fewer rows are unnested.
    sql<{ fact: string; determinations: number }>`
      select m as fact, sum(g.n)::int as determinations
      from (
        select d.missing, count(*) as n from determination d
        where ${determinationsIn(f)} and d.decision = 'documentation-needed'
        group by 1
      ) as g cross join unnest(g.missing) as m
      group by m order by 2 desc, 1 limit ${limit}`.execute(db),
  ]);
  return { documentationNeeded: total.rows[0]?.n ?? 0, facts: facts.rows };
}

export async function feedbackByDecision(db: Db, f: DashboardFilter): Promise<FeedbackCount[]> {
  // (card_uuid, outcome) is feedback's primary key: each join finds at most one row, so nothing is counted twice.
  const { rows } = await sql<{ decision: string; determinations: number; accepted: number; overridden: number }>`
    select d.decision, count(*)::int as determinations,
      (count(*) filter (where fa.card_uuid is not null))::int as accepted,
      (count(*) filter (where fo.card_uuid is not null))::int as overridden
    from determination d
      left join feedback fa on fa.card_uuid = d.card_uuid and fa.outcome = 'accepted'
      left join feedback fo on fo.card_uuid = d.card_uuid and fo.outcome = 'overridden'
    where ${determinationsIn(f)}
    group by 1`.execute(db);
  return rows.map((r) => ({ ...r, decision: decisionOf(r.decision) }));
}

export async function overrideReasons(db: Db, f: DashboardFilter): Promise<OverrideReasonCount[]> {
  const { rows } = await sql<{ decision: string; code: string | null; system: string | null; overrides: number }>`
    select d.decision, fo.override_reason_code as code, fo.override_reason_system as system, count(*)::int as overrides
    from determination d join feedback fo on fo.card_uuid = d.card_uuid and fo.outcome = 'overridden'
    where ${determinationsIn(f)}
    group by 1, 2, 3 order by 4 desc, 2 nulls last, 1`.execute(db);
  return rows.map((r) => ({ ...r, decision: decisionOf(r.decision) }));
}

export async function overridesByCriterion(db: Db, f: DashboardFilter): Promise<CriterionOverrideCount[]> {
  const { rows } = await sql<{ kind: string; id: string; determinations: number; overridden: number }>`
    with shown as (
      -- Grouped by the whole lists first (cards repeat the same few), so far fewer rows are unnested.
      select d.satisfied, d.missing, fo.card_uuid is not null as overridden, count(*) as n
      from determination d left join feedback fo on fo.card_uuid = d.card_uuid and fo.outcome = 'overridden'
      where ${determinationsIn(f)}
      group by 1, 2, 3
    )
    select 'satisfied' as kind, s as id, sum(n)::int as determinations, coalesce(sum(n) filter (where overridden), 0)::int as overridden
    from shown cross join unnest(shown.satisfied) as s group by s
    union all
    select 'missing' as kind, m as id, sum(n)::int as determinations, coalesce(sum(n) filter (where overridden), 0)::int as overridden
    from shown cross join unnest(shown.missing) as m group by m
    order by 4 desc, 3 desc, 1 desc, 2`.execute(db);
  return rows.map((r) => ({ kind: r.kind === 'missing' ? 'missing' : 'satisfied', id: r.id, determinations: r.determinations, overridden: r.overridden }));
}

export async function fhirFailures(db: Db, f: DashboardFilter): Promise<FhirFailures> {
  const [totals, failures] = await Promise.all([
    sql<{ invocations: number; with_failure: number }>`
      select count(*)::int as invocations, (count(*) filter (where cardinality(i.unreadable) > 0))::int as with_failure
      from invocation i where ${invocationsIn(f)}`.execute(db),
    // Recorded as "Type:failure" ("Condition:timeout"), one entry per source.
    sql<{ resource_type: string; failure: string; invocations: number }>`
      select split_part(u, ':', 1) as resource_type, split_part(u, ':', 2) as failure, count(distinct i.id)::int as invocations
      from invocation i cross join unnest(i.unreadable) as u
      where ${invocationsIn(f)}
      group by 1, 2 order by 3 desc, 1, 2`.execute(db),
  ]);
  const t = totals.rows[0];
  return {
    invocations: t?.invocations ?? 0,
    withFailure: t?.with_failure ?? 0,
    failures: failures.rows.map((r) => ({ resourceType: r.resource_type, failure: r.failure, invocations: r.invocations })),
  };
}

/** Durations are recorded to a hundredth of a millisecond; interpolation must not add float noise. */
const hundredths = (ms: number): number => Math.round(ms * 100) / 100;

export async function hookDurations(db: Db, f: DashboardFilter): Promise<DurationDay[]> {
  const { rows } = await sql<{ day: number; invocations: number; p50: number; p95: number }>`
    select ${UTC_DAY} as day, count(*)::int as invocations,
      percentile_cont(0.5) within group (order by duration_ms) as p50,
      percentile_cont(0.95) within group (order by duration_ms) as p95
    from invocation i where ${invocationsIn(f)}
    group by 1 order by 1`.execute(db);
  return rows.map((r) => ({ day: dayOf(r.day), invocations: r.invocations, p50Ms: hundredths(Number(r.p50)), p95Ms: hundredths(Number(r.p95)) }));
}

export async function notesUnread(db: Db, f: DashboardFilter): Promise<NotesUnreadCount[]> {
  const { rows } = await sql<{ reason: string; notes: number; determinations: number }>`
    select e.key as reason, sum((e.value)::int)::int as notes, count(*)::int as determinations
    from determination d cross join jsonb_each_text(d.notes_unread) as e(key, value)
    where d.notes_unread is not null and ${determinationsIn(f)}
    group by 1 order by 2 desc, 1`.execute(db);
  return rows;
}

/** A table cursor: the (received_at, invocation id, position) of the last line shown. */
interface LineCursor {
  readonly at: number;
  readonly id: string;
  readonly position: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeLineCursor(c: LineCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id, c.position])).toString('base64url');
}

function decodeLineCursor(raw: string): LineCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && UUID.test(v[1]) && Number.isInteger(v[2]) && (v[2] as number) >= 0) {
      return { at: v[0] as number, id: v[1], position: v[2] as number };
    }
  } catch {
    // falls through
  }
  throw new InvalidCursorError('cursor is not one this service issued');
}

/** A determination's line id: its call's uuid and its position in the call. */
export function lineId(invocationId: string, position: number): string {
  return `${invocationId}.${position}`;
}

/** Reads a line id; undefined when it is not one. */
export function parseLineId(id: string): { invocationId: string; position: number } | undefined {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,4})$/i.exec(id);
  return m?.[1] !== undefined && m[2] !== undefined ? { invocationId: m[1].toLowerCase(), position: Number(m[2]) } : undefined;
}

export async function listDeterminations(db: Db, q: DeterminationQuery): Promise<DeterminationPage> {
  const limit = Math.min(Math.max(1, Math.trunc(q.limit)), MAX_EXPORT_PAGE_SIZE);
  const cursor = q.cursor !== undefined ? decodeLineCursor(q.cursor) : undefined;
  const decision = q.decision !== undefined ? sql`and d.decision = ${q.decision}` : sql``;
  // Keyset, newest first: strictly after the last line shown in (received_at, invocation_id, position) order.
  const after = cursor !== undefined ? sql`and (d.received_at, d.invocation_id, d.position) < (${new Date(cursor.at)}, ${cursor.id}::uuid, ${cursor.position})` : sql``;
  const { rows } = await sql<{
    invocation_id: string;
    position: number;
    received_at: Date;
    patient_id: string;
    order_ref: string;
    order_code: string | null;
    decision: string;
    main_reason: string | null;
    coverage_assertion_id: string | null;
    feedback: string[];
  }>`
    select d.invocation_id, d.position, d.received_at, i.patient_id, d.order_ref, d.order_code, d.decision, d.main_reason,
      d.coverage_assertion_id,
      array(select f.outcome from feedback f where f.card_uuid = d.card_uuid order by f.outcome) as feedback
    from determination d join invocation i on i.id = d.invocation_id
    where ${determinationsIn(q)} ${decision} ${after}
    order by d.received_at desc, d.invocation_id desc, d.position desc
    limit ${limit + 1}`.execute(db);
  const page = rows.slice(0, limit);
  const items: DeterminationLine[] = page.map((r) => ({
    id: lineId(r.invocation_id, r.position),
    receivedAt: new Date(r.received_at).getTime(),
    patientId: r.patient_id,
    order: r.order_ref,
    ...(r.order_code !== null ? { orderCode: r.order_code } : {}),
    decision: decisionOf(r.decision),
    ...(r.main_reason !== null ? { mainReason: r.main_reason } : {}),
    ...(r.coverage_assertion_id !== null ? { coverageAssertionId: r.coverage_assertion_id } : {}),
    feedback: r.feedback.filter((o): o is 'accepted' | 'overridden' => o === 'accepted' || o === 'overridden'),
  }));
  const last = page[page.length - 1];
  return {
    items,
    ...(rows.length > limit && last !== undefined
      ? { next: encodeLineCursor({ at: new Date(last.received_at).getTime(), id: last.invocation_id, position: last.position }) }
      : {}),
  };
}
