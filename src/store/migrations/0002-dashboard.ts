import { sql, type Kysely } from 'kysely';

/**
 * Indexes for the reviewers' dashboard (issue #14), chosen by measurement over 100,000 determinations
 * (`npm run bench:review`, BENCHMARKS.md):
 * - every question reads a period of determinations: a covering index on received_at with the columns the
 *   questions group by, so PostgreSQL answers from the index alone (an index-only scan, once vacuum has marked
 *   the pages all-visible) instead of reading the wide rows with their evidence (30 days of 100,000: 174 → 32 ms
 *   per day and decision);
 * - the per-day hook durations and FHIR failures read the calls of a period: a covering index with
 *   duration_ms and unreadable, so the responses kept in the same rows are never read (481 → 22 ms);
 * - the recent-determinations table pages newest first by (received_at, invocation_id, position): one index
 *   scan, no sort of the period;
 * - every question can be narrowed to one order code over a period: (order_code, received_at).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index determination_period on determination (received_at)
      include (decision, order_code, card_uuid, fact_sources, satisfied, missing, notes_unread)`.execute(db);
  await sql`create index invocation_period on invocation (received_at) include (duration_ms, unreadable)`.execute(db);
  await sql`create index determination_recent on determination (received_at desc, invocation_id desc, position desc)`.execute(db);
  await sql`create index determination_order_code on determination (order_code, received_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['determination_order_code', 'determination_recent', 'invocation_period', 'determination_period']) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
}
