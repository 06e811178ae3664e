import type {
  Resource,
  Condition,
  Coverage,
  DiagnosticReport,
  DocumentReference,
  ImagingStudy,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  QuestionnaireResponse,
  ServiceRequest,
} from 'fhir/r4.js';

/** Every resource type the policy reads (issue #2: one prefetch template each). */
export const SOURCE_TYPES = [
  'Patient',
  'Coverage',
  'Condition',
  'Observation',
  'ImagingStudy',
  'Procedure',
  'MedicationRequest',
  'ServiceRequest',
  'DiagnosticReport',
  'QuestionnaireResponse',
  'DocumentReference',
] as const;

export type SourceType = (typeof SOURCE_TYPES)[number];

/**
 * The sources coded facts are read from (SPEC §2–§4). The clinical notes (SPEC §8.1) are an added source:
 * an unread note makes no fact unknown, so a failed notes query never counts against these.
 */
export const CODED_SOURCE_TYPES: readonly Exclude<SourceType, 'DocumentReference'>[] = SOURCE_TYPES.filter(
  (t): t is Exclude<SourceType, 'DocumentReference'> => t !== 'DocumentReference',
);

export interface ResourceOf {
  Patient: Patient;
  Coverage: Coverage;
  Condition: Condition;
  Observation: Observation;
  ImagingStudy: ImagingStudy;
  Procedure: Procedure;
  MedicationRequest: MedicationRequest;
  ServiceRequest: ServiceRequest;
  DiagnosticReport: DiagnosticReport;
  QuestionnaireResponse: QuestionnaireResponse;
  DocumentReference: DocumentReference;
}

/** Why a source could not be read; no PHI, safe for logs and cards. */
export type SourceFailure =
  | 'prefetch-error'
  | 'not-provided'
  | 'timeout'
  | 'unauthorized'
  | 'not-found'
  | 'server-error'
  | 'network-error'
  | 'malformed-response'
  | 'foreign-next-link'
  | 'page-limit'
  | 'other-host';

/**
 * What the service could learn of one resource type. `failure` set means the list may be incomplete:
 * closed-world facts over it become unknown rather than false (SPEC §2 Unreadable sources), while what
 * was retrieved still counts as evidence.
 */
export interface Source<T extends SourceType> {
  readonly type: T;
  readonly resources: readonly ResourceOf[T][];
  readonly failure?: SourceFailure;
}

export type Sources = { readonly [T in SourceType]: Source<T> };

/** The patient's data as gathered for one hook call, from prefetch and/or the FHIR server. */
export interface PatientRecord {
  readonly patientId: string;
  readonly sources: Sources;
  /**
   * Resources the record's resources refer to, by "Type/id" (or by the URL they were read from): what an
   * `_include` brought along, or what a follow-up read fetched (payer Organizations, Medications, the Binaries
   * holding note texts, keyed by the attachment's `url` as written).
   */
  readonly related: ReadonlyMap<string, Resource>;
  /** References a follow-up read could not fetch, and why. */
  readonly relatedFailures: ReadonlyMap<string, SourceFailure>;
  /** How many FHIR HTTP requests the service made to build it (for logs and benchmarks). */
  readonly fhirRequests: number;
}

/**
 * The "Type/id" a reference names: "Medication/1" for "Medication/1", "https://ehr/fhir/Medication/1" or
 * "Medication/1/_history/2"; undefined for a contained ("#x"), logical or otherwise unreadable reference.
 * @param reference - the reference as written
 */
export function typedId(reference: string): string | undefined {
  const parts = reference.trim().replace(/\/_history\/[^/]*$/, '').split('/');
  const id = parts.at(-1);
  const type = parts.at(-2);
  return type !== undefined && id !== undefined && /^[A-Z][A-Za-z]+$/.test(type) && /^[A-Za-z0-9.-]{1,64}$/.test(id) ? `${type}/${id}` : undefined;
}

/**
 * The resource a reference names among those read beside the searches (`_include`d, or read by a follow-up):
 * under the reference as written, else under its "Type/id".
 * @param record - the gathered record
 * @param reference - the reference as written
 */
export function relatedResource(record: PatientRecord, reference: string): Resource | undefined {
  const asWritten = record.related.get(reference);
  if (asWritten) {
    return asWritten;
  }
  const id = typedId(reference);
  return id !== undefined ? record.related.get(id) : undefined;
}

/** Human name of a source type for cards ("observations"). */
export const SOURCE_LABEL: Readonly<Record<SourceType, string>> = {
  Patient: 'patient demographics',
  Coverage: 'coverage',
  Condition: 'problems and diagnoses',
  Observation: 'observations (vital signs, measurements)',
  ImagingStudy: 'imaging studies',
  Procedure: 'procedures and therapy',
  MedicationRequest: 'medications',
  ServiceRequest: 'other orders and referrals',
  DiagnosticReport: 'diagnostic reports',
  QuestionnaireResponse: "the clinician's documented answers",
  DocumentReference: 'clinical notes',
};

/** Plain reason for a failure, for the card. */
export const FAILURE_LABEL: Readonly<Record<SourceFailure, string>> = {
  'prefetch-error': 'the EHR reported an error retrieving it',
  'not-provided': 'it was not provided and no FHIR server was given',
  timeout: 'the FHIR server did not answer in time',
  unauthorized: 'the FHIR server refused access',
  'not-found': 'the FHIR server did not find it',
  'server-error': 'the FHIR server returned an error',
  'network-error': 'the FHIR server could not be reached',
  'malformed-response': 'the FHIR server returned an unreadable response',
  'foreign-next-link': 'a further page pointed to another server and was not followed',
  'page-limit': 'it had more pages than the service reads',
  'other-host': 'it is held on another server, which the service does not contact with the EHR\'s token',
};

/** Builds a record whose every source is empty and readable; tests and callers override what they need. */
export function emptySources(): { -readonly [T in SourceType]: Source<T> } {
  return {
    Patient: { type: 'Patient', resources: [] },
    Coverage: { type: 'Coverage', resources: [] },
    Condition: { type: 'Condition', resources: [] },
    Observation: { type: 'Observation', resources: [] },
    ImagingStudy: { type: 'ImagingStudy', resources: [] },
    Procedure: { type: 'Procedure', resources: [] },
    MedicationRequest: { type: 'MedicationRequest', resources: [] },
    ServiceRequest: { type: 'ServiceRequest', resources: [] },
    DiagnosticReport: { type: 'DiagnosticReport', resources: [] },
    QuestionnaireResponse: { type: 'QuestionnaireResponse', resources: [] },
    DocumentReference: { type: 'DocumentReference', resources: [] },
  };
}
