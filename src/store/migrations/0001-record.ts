import { sql, type Kysely } from 'kysely';

/**
 * The durable record (issue #13), shaped for the reviewer's dashboard (issue #14): per-day counts by
 * decision and order code, fact sources, missing facts, feedback rates, FHIR failures, hook durations and
 * unread notes are each one GROUP BY over indexed columns of `invocation` or `determination`, never a
 * walk through JSON.
 *
 * Applied at start by Kysely's Migrator; never edit a released migration, add the next one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per hook call. `response` is json, not jsonb: json keeps the body byte for byte, key order
  // included, as CRD found-37 asks ("the response exactly as sent").
  await sql`
    create table invocation (
      id uuid primary key,
      received_at timestamptz not null,
      hook text not null,
      hook_instance text not null,
      service text not null,
      client_iss text,
      patient_id text not null,
      orders text[] not null,
      policy_id text not null,
      policy_version text not null,
      decisions text[] not null,
      unreadable text[] not null,
      fhir_requests integer not null,
      duration_ms double precision not null,
      response json not null,
      recorded_at timestamptz not null default now()
    )`.execute(db);
  // Paging newest first (keyset on received_at, id), per-day durations and retention.
  await sql`create index invocation_received on invocation (received_at desc, id desc)`.execute(db);
  await sql`create index invocation_patient on invocation (patient_id, received_at desc, id desc)`.execute(db);

  // One row per order decided. received_at is copied from the call so per-day aggregations need no join.
  await sql`
    create table determination (
      invocation_id uuid not null references invocation (id) on delete cascade,
      position smallint not null,
      received_at timestamptz not null,
      order_ref text not null,
      order_code text,
      decision text not null check (decision in ('meets-criteria', 'documentation-needed', 'does-not-meet-criteria')),
      card_uuid text,
      satisfied text[] not null,
      missing text[] not null,
      evidence jsonb not null,
      fact_sources text[] not null,
      coverage_assertion_id text unique,
      satisfied_pa_id text unique,
      covered text,
      main_reason text,
      notes_unread jsonb,
      primary key (invocation_id, position)
    )`.execute(db);
  await sql`create index determination_received on determination (received_at, decision)`.execute(db);
  await sql`create index determination_card on determination (card_uuid) where card_uuid is not null`.execute(db);

  // CDS Hooks §Feedback: a client may send the same item again; (card, outcome) is recorded once.
  await sql`
    create table feedback (
      card_uuid text not null,
      outcome text not null check (outcome in ('accepted', 'overridden')),
      service text not null,
      outcome_at timestamptz not null,
      received_at timestamptz not null,
      accepted_suggestions text[] not null,
      override_reason_code text,
      override_reason_system text,
      user_comment text,
      primary key (card_uuid, outcome)
    )`.execute(db);
  await sql`create index feedback_received on feedback (received_at)`.execute(db);

  // Per-determination questionnaires, served by any replica until they expire.
  await sql`
    create table questionnaire (
      id text primary key,
      payload json not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index questionnaire_expires on questionnaire (expires_at)`.execute(db);

  // CDS Hooks §Trusting CDS Clients: a jti is accepted once across replicas for its token's lifetime.
  await sql`
    create table jti_seen (
      issuer text not null,
      jti text not null,
      expires_at timestamptz not null,
      primary key (issuer, jti)
    )`.execute(db);
  await sql`create index jti_seen_expires on jti_seen (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['jti_seen', 'questionnaire', 'feedback', 'determination', 'invocation']) {
    await sql`drop table if exists ${sql.id(table)}`.execute(db);
  }
}
