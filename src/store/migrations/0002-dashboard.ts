import { sql, type Kysely } from 'kysely';

/**
 * Indexes for the reviewers' dashboard (issue #14), chosen by measurement over 100,000 determinations
 * (`npm run bench:review`, BENCHMARKS.md):
 * - the recent-determinations table pages newest first by (received_at, invocation_id, position): one index
 *   scan, no sort of the period;
 * - every question can be narrowed to one order code over a period: (order_code, received_at);
 * - FHIR failures are read from the few calls that had one: a partial index on them.
 * The other questions group the period's rows found through determination_received / invocation_received
 * (0001), and join feedback through its primary key (card_uuid, outcome).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index determination_recent on determination (received_at desc, invocation_id desc, position desc)`.execute(db);
  await sql`create index determination_order_code on determination (order_code, received_at)`.execute(db);
  await sql`create index invocation_failed on invocation (received_at) where cardinality(unreadable) > 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists invocation_failed`.execute(db);
  await sql`drop index if exists determination_order_code`.execute(db);
  await sql`drop index if exists determination_recent`.execute(db);
}
