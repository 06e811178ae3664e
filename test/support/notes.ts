import type { Attachment, Binary, DiagnosticReport, DocumentReference, Resource } from 'fhir/r4.js';
import type { PatientRecord, SourceFailure } from '../../src/fhir/patient-record.js';
import { daysAgo } from './clinical.js';

let counter = 0;

/** base64 of the UTF-8 text, as an EHR stores an attachment's data. */
export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface NoteOptions {
  readonly id?: string;
  /** DocumentReference.date; null leaves it out. */
  readonly date?: string | null;
  /** context.period.start */
  readonly periodStart?: string;
  readonly status?: string;
  readonly docStatus?: string;
  readonly type?: string;
  /** The note's attachments; default one text/plain attachment holding the text. */
  readonly content?: readonly Attachment[];
  readonly contained?: readonly Resource[];
}

/** A clinical note for Patient/pat, its text held in the attachment (base64 of UTF-8) unless told otherwise. */
export function note(text: string, options: NoteOptions = {}): DocumentReference {
  const date = options.date === undefined ? daysAgo(3) : options.date;
  return {
    resourceType: 'DocumentReference',
    id: options.id ?? `note-${++counter}`,
    status: (options.status ?? 'current') as DocumentReference['status'],
    ...(options.docStatus !== undefined ? { docStatus: options.docStatus as DocumentReference['docStatus'] } : {}),
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: options.type ?? 'Progress note' }] },
    subject: { reference: 'Patient/pat' },
    ...(date !== null ? { date } : {}),
    ...(options.periodStart !== undefined ? { context: { period: { start: options.periodStart } } } : {}),
    ...(options.contained ? { contained: [...options.contained] } : {}),
    content: (options.content ?? [{ contentType: 'text/plain', data: base64(text) }]).map((attachment) => ({ attachment })),
  };
}

/** A Binary holding a note's text. */
export function binary(id: string, text: string, contentType = 'text/plain'): Binary {
  return { resourceType: 'Binary', id, contentType, data: base64(text) };
}

/** A narrative report for Patient/pat. */
export function narrativeReport(options: { conclusion?: string; presentedForm?: Attachment[]; status?: string; date?: string; display?: string; id?: string }): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    id: options.id ?? `report-${++counter}`,
    status: (options.status ?? 'final') as DiagnosticReport['status'],
    code: { coding: [{ system: 'http://loinc.org', code: '24967-0', display: options.display ?? 'CT Lumbar spine' }] },
    subject: { reference: 'Patient/pat' },
    effectiveDateTime: options.date ?? daysAgo(10),
    ...(options.conclusion !== undefined ? { conclusion: options.conclusion } : {}),
    ...(options.presentedForm ? { presentedForm: options.presentedForm } : {}),
  };
}

/** The record as the follow-up read would leave it: some Binary URLs failed, for these reasons. */
export function withFailedReads(record: PatientRecord, failures: Readonly<Record<string, SourceFailure>>): PatientRecord {
  return { ...record, relatedFailures: new Map(Object.entries(failures)) };
}
