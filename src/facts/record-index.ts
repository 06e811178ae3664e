import type { CodeableConcept, Condition, Medication, MedicationRequest, Resource } from 'fhir/r4.js';
import { CODED_SOURCE_TYPES, relatedResource, type PatientRecord, type ResourceOf, type SourceFailure, type SourceType } from '../fhir/patient-record.js';
import { parseFhirDate, type FhirDate } from './fhir-dates.js';

/** A record that counts, with its reference and its date per SPEC §2 Dates. */
export interface Dated<T> {
  readonly resource: T;
  readonly reference: string;
  readonly date: FhirDate | undefined;
}

/** Observation statuses that count (SPEC §2). */
const OBSERVATION_STATUSES = new Set(['final', 'amended', 'corrected', 'preliminary']);
const ACTIVE_CLINICAL = new Set(['active', 'recurrence', 'relapse']);

/** The codes of a CodeableConcept's codings, lower-cased and trimmed (statuses arrive in odd case). */
export function conceptCodes(concept: CodeableConcept | undefined): string[] {
  const codings = Array.isArray(concept?.coding) ? concept.coding : [];
  return codings.flatMap((c) => (typeof c?.code === 'string' ? [c.code.trim().toLowerCase()] : []));
}

/** Lower-cased, trimmed status of a resource, for comparisons with policy status lists. */
export function statusOf(resource: { status?: unknown }): string | undefined {
  return typeof resource.status === 'string' ? resource.status.trim().toLowerCase() : undefined;
}

/** SPEC §2: a Condition "is active" when clinicalStatus is active, recurrence or relapse, or absent. */
export function isActiveCondition(condition: Condition): boolean {
  const codes = conceptCodes(condition.clinicalStatus);
  // A clinicalStatus that carries no code says nothing: read as absent.
  return codes.length === 0 || codes.some((c) => ACTIVE_CLINICAL.has(c));
}

/** The reference string of a resource ("Condition/abc"). */
export function referenceOf(resource: Resource): string {
  return `${resource.resourceType}/${typeof resource.id === 'string' && resource.id ? resource.id : 'unidentified'}`;
}

function conditionDate(c: Condition): FhirDate | undefined {
  return parseFhirDate(c.onsetDateTime) ?? parseFhirDate(c.onsetPeriod?.start) ?? parseFhirDate(c.recordedDate);
}

function observationDate(o: ResourceOf['Observation']): FhirDate | undefined {
  return (
    parseFhirDate(o.effectiveDateTime) ??
    parseFhirDate(o.effectivePeriod?.start) ??
    parseFhirDate(o.effectiveInstant) ??
    parseFhirDate(o.issued)
  );
}

/** SPEC §2 Dates: a report's date is effectiveDateTime, else effectivePeriod.start, else issued. */
export function reportDate(r: ResourceOf['DiagnosticReport']): FhirDate | undefined {
  return parseFhirDate(r.effectiveDateTime) ?? parseFhirDate(r.effectivePeriod?.start) ?? parseFhirDate(r.issued);
}

/** SPEC §8.1: a note counts when its `status` is `current` or absent and its `docStatus` is not `entered-in-error`. */
export function documentCounts(d: ResourceOf['DocumentReference']): boolean {
  const status = statusOf(d);
  return (status === undefined || status === 'current') && statusOf({ status: d.docStatus }) !== 'entered-in-error';
}

/** SPEC §8.1: a note's text is dated by `context.period.start`, else `date`. */
export function documentDate(d: ResourceOf['DocumentReference']): FhirDate | undefined {
  return parseFhirDate(d.context?.period?.start) ?? parseFhirDate(d.date);
}

/**
 * A counted record with its date. The reference string is built on first use: most records never become
 * evidence, and the index is built for every request.
 */
class DatedRecord<T extends Resource> implements Dated<T> {
  private ref: string | undefined = undefined;

  constructor(
    readonly resource: T,
    readonly date: FhirDate | undefined,
  ) {}

  get reference(): string {
    this.ref ??= referenceOf(this.resource);
    return this.ref;
  }
}

/** The records that count, each dated, in one pass (no intermediate arrays). */
function datedWhere<T extends Resource>(resources: readonly T[], counts: (r: T) => boolean, dateOf: (r: T) => FhirDate | undefined): Dated<T>[] {
  const out: Dated<T>[] = [];
  for (const r of resources) {
    if (counts(r)) {
      out.push(new DatedRecord(r, dateOf(r)));
    }
  }
  return out;
}

const notEnteredInError = (r: { status?: unknown }): boolean => statusOf(r) !== 'entered-in-error';

function conditionCounts(c: Condition): boolean {
  const v = conceptCodes(c.verificationStatus);
  return !v.includes('refuted') && !v.includes('entered-in-error');
}

/**
 * What a MedicationRequest prescribes (SPEC §4.1): the concept that names the medication — its
 * `medicationCodeableConcept`, or the `code` of the Medication its `medicationReference` points at — with the
 * texts its ingredient may be named in; or, when the reference cannot be followed, why.
 */
export type Prescribed =
  | { readonly kind: 'medication'; readonly concept: CodeableConcept | undefined; readonly texts: readonly string[] }
  /** The Medication could not be read: the prescription cannot be recognised, and a failure says why. */
  | { readonly kind: 'unreadable'; readonly failure: SourceFailure }
  /** The reference names nothing there is (a contained id that is absent, a Medication that does not exist). */
  | { readonly kind: 'nothing' };

function textsOf(concept: CodeableConcept | undefined, display: unknown): string[] {
  const texts: string[] = [];
  if (typeof concept?.text === 'string') {
    texts.push(concept.text);
  }
  for (const c of Array.isArray(concept?.coding) ? concept.coding : []) {
    if (typeof c?.display === 'string') {
      texts.push(c.display);
    }
  }
  if (typeof display === 'string') {
    texts.push(display);
  }
  return texts;
}

function isMedication(r: unknown): r is Medication {
  return typeof r === 'object' && r !== null && (r as { resourceType?: unknown }).resourceType === 'Medication';
}

/**
 * Follows a prescription to its medication (SPEC §4.1): `medicationCodeableConcept` as it is; a `medicationReference`
 * "#id" to the contained Medication; any other reference to the Medication the record holds (from `_include`, or
 * read by the service). A reference the service could not read is `unreadable` — unless the server said it does not
 * exist, which, like a contained id that is absent, names `nothing`.
 * @param m - the prescription
 * @param record - the gathered record (its related resources and the reads that failed)
 */
export function prescribed(m: MedicationRequest, record: PatientRecord): Prescribed {
  const ref = m.medicationReference;
  const reference = typeof ref?.reference === 'string' ? ref.reference.trim() : undefined;
  if (m.medicationCodeableConcept !== undefined || reference === undefined || reference === '') {
    return { kind: 'medication', concept: m.medicationCodeableConcept, texts: textsOf(m.medicationCodeableConcept, ref?.display) };
  }
  let medication: Resource | undefined;
  if (reference.startsWith('#')) {
    const contained: readonly unknown[] = Array.isArray(m.contained) ? m.contained : [];
    medication = contained.find((r): r is Medication => isMedication(r) && r.id === reference.slice(1));
    if (!medication) {
      return { kind: 'nothing' };
    }
  } else {
    medication = relatedResource(record, reference);
    if (!medication) {
      // Never read: no FHIR server to read it from, or the reference is not one the service follows.
      const failure = record.relatedFailures.get(reference) ?? 'not-provided';
      return failure === 'not-found' ? { kind: 'nothing' } : { kind: 'unreadable', failure };
    }
  }
  if (!isMedication(medication)) {
    return { kind: 'nothing' };
  }
  return { kind: 'medication', concept: medication.code, texts: textsOf(medication.code, ref?.display) };
}

/**
 * The patient's records that count for any fact (SPEC §2 "Records that do not count"), dated once, so
 * that every rule of every fact reads the same filtered view.
 */
export class RecordIndex {
  readonly conditions: readonly Dated<ResourceOf['Condition']>[];
  readonly observations: readonly Dated<ResourceOf['Observation']>[];
  readonly imagingStudies: readonly Dated<ResourceOf['ImagingStudy']>[];
  readonly procedures: readonly ResourceOf['Procedure'][];
  readonly medicationRequests: readonly ResourceOf['MedicationRequest'][];
  readonly serviceRequests: readonly ResourceOf['ServiceRequest'][];
  readonly reports: readonly Dated<ResourceOf['DiagnosticReport']>[];
  readonly questionnaireResponses: readonly ResourceOf['QuestionnaireResponse'][];
  /** Counted notes (SPEC §8.1: status current or absent, docStatus not entered-in-error), dated by their text. */
  readonly documents: readonly Dated<ResourceOf['DocumentReference']>[];
  readonly patient: ResourceOf['Patient'] | undefined;
  /**
   * Every coded source was read whole: no fact can be unknown for want of data. The notes are not among
   * them (SPEC §8.1: an unread note makes no fact unknown), so a failed notes query leaves this true.
   */
  readonly complete: boolean;
  /** What each counted prescription prescribes, followed once. */
  private readonly medications = new Map<MedicationRequest, Prescribed>();
  /**
   * Why a prescription's Medication could not be read, if one could not. A prescription that cannot be recognised
   * may be conservative care, so the prescriptions are then read only in part: closed-world facts over them become
   * unknown rather than false (SPEC §2 Unreadable sources; a missing Medication can only hide care).
   */
  private readonly medicationFailure: SourceFailure | undefined;

  /**
   * @param record - the gathered patient record
   */
  constructor(readonly record: PatientRecord) {
    const s = record.sources;
    this.conditions = datedWhere(s.Condition.resources, conditionCounts, conditionDate);
    this.observations = datedWhere(s.Observation.resources, (o) => OBSERVATION_STATUSES.has(statusOf(o) ?? ''), observationDate);
    this.imagingStudies = datedWhere(s.ImagingStudy.resources, (i) => notEnteredInError(i) && statusOf(i) !== 'cancelled', (i) => parseFhirDate(i.started));
    this.procedures = s.Procedure.resources.filter((p) => notEnteredInError(p) && statusOf(p) !== 'not-done');
    this.medicationRequests = s.MedicationRequest.resources.filter(notEnteredInError);
    let medicationFailure: SourceFailure | undefined;
    for (const m of this.medicationRequests) {
      const p = prescribed(m, record);
      this.medications.set(m, p);
      if (p.kind === 'unreadable') {
        medicationFailure ??= p.failure;
      }
    }
    this.medicationFailure = medicationFailure;
    this.serviceRequests = s.ServiceRequest.resources.filter(notEnteredInError);
    this.reports = datedWhere(s.DiagnosticReport.resources, notEnteredInError, reportDate);
    this.questionnaireResponses = s.QuestionnaireResponse.resources.filter(notEnteredInError);
    this.documents = datedWhere(s.DocumentReference.resources, documentCounts, documentDate);
    this.patient = s.Patient.resources[0];
    this.complete = medicationFailure === undefined && CODED_SOURCE_TYPES.every((type) => s[type].failure === undefined);
  }

  /**
   * Why a source could not be (fully) read, if it could not. For prescriptions, a Medication that could not be
   * read counts too.
   */
  failure(type: SourceType): SourceFailure | undefined {
    const failure = this.record.sources[type].failure;
    return type === 'MedicationRequest' ? (failure ?? this.medicationFailure) : failure;
  }

  /**
   * What a counted prescription prescribes (SPEC §4.1).
   * @param m - one of `medicationRequests`
   */
  prescribed(m: MedicationRequest): Prescribed {
    return this.medications.get(m) ?? prescribed(m, this.record);
  }
}
