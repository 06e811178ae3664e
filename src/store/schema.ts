import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as Kysely sees them (migrations/0001-record.ts creates them). Timestamps are written as Date
 * and read as Date; json columns are written as their JSON text and read parsed.
 */
type Timestamp = ColumnType<Date, Date, Date>;
type JsonText<T> = ColumnType<T, string, string>;

export interface InvocationTable {
  id: string;
  received_at: Timestamp;
  hook: string;
  hook_instance: string;
  service: string;
  client_iss: string | null;
  patient_id: string;
  orders: string[];
  policy_id: string;
  policy_version: string;
  decisions: string[];
  unreadable: string[];
  fhir_requests: number;
  duration_ms: number;
  response: JsonText<unknown>;
  recorded_at: Generated<Date>;
}

export interface DeterminationTable {
  invocation_id: string;
  position: number;
  received_at: Timestamp;
  order_ref: string;
  order_code: string | null;
  decision: string;
  card_uuid: string | null;
  satisfied: string[];
  missing: string[];
  evidence: JsonText<unknown>;
  fact_sources: string[];
  coverage_assertion_id: string | null;
  satisfied_pa_id: string | null;
  covered: string | null;
  main_reason: string | null;
  notes_unread: JsonText<unknown> | null;
}

export interface FeedbackTable {
  card_uuid: string;
  outcome: string;
  service: string;
  outcome_at: Timestamp;
  received_at: Timestamp;
  accepted_suggestions: string[];
  override_reason_code: string | null;
  override_reason_system: string | null;
  user_comment: string | null;
}

export interface QuestionnaireTable {
  id: string;
  payload: JsonText<unknown>;
  expires_at: Timestamp;
}

export interface JtiTable {
  issuer: string;
  jti: string;
  expires_at: Timestamp;
}

export interface Database {
  invocation: InvocationTable;
  determination: DeterminationTable;
  feedback: FeedbackTable;
  questionnaire: QuestionnaireTable;
  jti_seen: JtiTable;
}
