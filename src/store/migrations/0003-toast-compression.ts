import { sql, type Kysely } from 'kysely';

/**
 * The two large JSON columns — each call's response as sent (3–8 KB) and each questionnaire's spec (about 4 KB)
 * — are compressed by lz4 rather than PostgreSQL's default pglz. Measured on the service's own records (batches
 * of 16 calls, one determination and one questionnaire each, PostgreSQL 15 on this project's 2-core machine):
 * the database's CPU per call fell from about 440–480 µs to 300–375 µs, for a slightly larger table.
 * PostgreSQL built without lz4, and the embedded PGlite (which has none), store the columns uncompressed
 * instead (`storage external`): compressing inside the service's own process cost PGlite about a quarter of
 * its time per call.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      alter table invocation alter column response set compression lz4;
      alter table questionnaire alter column payload set compression lz4;
    exception when feature_not_supported then
      alter table invocation alter column response set storage external;
      alter table questionnaire alter column payload set storage external;
    end
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      alter table invocation alter column response set compression default;
      alter table questionnaire alter column payload set compression default;
      alter table invocation alter column response set storage extended;
      alter table questionnaire alter column payload set storage extended;
    end
    $$`.execute(db);
}
