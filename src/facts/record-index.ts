import type { CodeableConcept, Condition, Resource } from 'fhir/r4.js';
import { CODED_SOURCE_TYPES, type PatientRecord, type ResourceOf, type SourceFailure, type SourceType } from '../fhir/patient-record.js';
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
    this.serviceRequests = s.ServiceRequest.resources.filter(notEnteredInError);
    this.reports = datedWhere(s.DiagnosticReport.resources, notEnteredInError, reportDate);
    this.questionnaireResponses = s.QuestionnaireResponse.resources.filter(notEnteredInError);
    this.documents = datedWhere(s.DocumentReference.resources, documentCounts, documentDate);
    this.patient = s.Patient.resources[0];
    this.complete = CODED_SOURCE_TYPES.every((type) => s[type].failure === undefined);
  }

  /** Why a source could not be (fully) read, if it could not. */
  failure(type: SourceType): SourceFailure | undefined {
    return this.record.sources[type].failure;
  }
}
