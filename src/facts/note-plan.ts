/**
 * Which texts of the patient's notes are read, in which order, and from where (SPEC §8.1): the reading
 * plan shared by the follow-up read that fetches note Binaries (src/fhir/note-attachments.ts) and by the
 * selection of the texts (note-texts.ts), so the service never fetches a text the selection would leave
 * out, and the selection never expects one that was not fetched.
 *
 * Pure over R4 JSON that has not been validated: every field is checked before it is used.
 */
import type { DiagnosticReport, DocumentReference } from 'fhir/r4.js';
import { isObject } from '../fhir/fhir-session.js';
import type { PatientRecord, Sources } from '../fhir/patient-record.js';
import type { FhirDate } from './fhir-dates.js';
import { documentCounts, documentDate, reportDate, statusOf } from './record-index.js';

/** SPEC §8.1: at most 100 texts and 2,000,000 characters (UTF-16 code units) per request. */
export interface NoteLimits {
  readonly texts: number;
  readonly characters: number;
}

export const NOTE_LIMITS: NoteLimits = Object.freeze({ texts: 100, characters: 2_000_000 });

/** Where one text is held. */
export type TextSource =
  /** base64 in the attachment itself (`attachment.data`), as given: checked when decoded. */
  | { readonly kind: 'data'; readonly data: unknown }
  /** A Binary to read: `Binary/<id>`, an absolute URL (read only when under fhirServer), or `#id` (contained). */
  | { readonly kind: 'url'; readonly url: string }
  /** Plain text in the resource (`DiagnosticReport.conclusion`). */
  | { readonly kind: 'plain'; readonly text: string };

/**
 * The elements whose texts are alternatives of one another: a DocumentReference's `content` ("each with a
 * different format", FHIR R4) and a DiagnosticReport's `presentedForm` ("semantically equivalent"). A
 * report's `conclusion` stands alone.
 */
export type TextGroup = 'content' | 'presentedForm' | 'conclusion';

/** One text to read: an attachment of a text type, or a report's conclusion. */
export interface PlannedText {
  readonly group: TextGroup;
  /** "content[0]", "presentedForm[1]", "conclusion": where evidence spans point (SPEC §8.4). */
  readonly part: string;
  /** `text/html`. When the attachment names no type, a Binary's own contentType decides. */
  readonly html: boolean;
  /** Whether the attachment named its content type (absent = text/plain, SPEC §8.1). */
  readonly typed: boolean;
  readonly from: TextSource;
}

/** A note attachment of a type that is not read (PDF, RTF, images: SPEC §8.1). */
export interface UnsupportedAttachment {
  readonly group: TextGroup;
  /** The media type, lower-cased without parameters ("application/pdf"); "" when it was not a string. */
  readonly contentType: string;
}

interface PlannedParts {
  /** SPEC §8.1: `context.period.start`, else `date`; a report's date as SPEC §2. */
  readonly date: FhirDate | undefined;
  /** Texts of a read type, in element order (a report's conclusion first). */
  readonly texts: readonly PlannedText[];
  readonly unsupported: readonly UnsupportedAttachment[];
}

/** A counted note with its date, its texts in element order, and what of it is in a format that is not read. */
export type PlannedNote =
  | (PlannedParts & { readonly source: 'document'; readonly resource: DocumentReference })
  | (PlannedParts & { readonly source: 'report'; readonly resource: DiagnosticReport });

const NO_NOTES: readonly PlannedNote[] = Object.freeze([]);
const NO_UNSUPPORTED: readonly UnsupportedAttachment[] = Object.freeze([]);

/** SPEC §8.1: the report statuses whose texts are read. */
const REPORT_STATUSES = new Set(['final', 'amended', 'corrected', 'appended', 'preliminary']);

/** SPEC §8.1: a DiagnosticReport's conclusion and presented forms are read when it is final, amended, corrected, appended or preliminary. */
export function reportTextsCount(r: DiagnosticReport): boolean {
  return REPORT_STATUSES.has(statusOf(r) ?? '');
}

/**
 * The media type of an attachment, lower-cased, parameters (`; charset=utf-8`) dropped; absent means
 * text/plain (SPEC §8.1); a value that is not a string names no type that is read.
 */
export function mediaType(contentType: unknown): string {
  if (contentType === undefined) {
    return 'text/plain';
  }
  if (typeof contentType !== 'string') {
    return '';
  }
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function isTextType(media: string): boolean {
  return media === 'text/plain' || media === 'text/html';
}

/** Adds one attachment of a note to its texts or its unread formats; an attachment holding nothing is neither. */
function planAttachment(attachment: unknown, group: TextGroup, index: number, texts: PlannedText[], unsupported: UnsupportedAttachment[]): void {
  if (!isObject(attachment)) {
    return;
  }
  const { data, url } = attachment;
  const hasUrl = typeof url === 'string' && url.trim() !== '';
  if (data === undefined && !hasUrl) {
    // Only a title or a size: there is nothing to read, so nothing was left unread either.
    return;
  }
  const media = mediaType(attachment.contentType);
  if (!isTextType(media)) {
    unsupported.push({ group, contentType: media });
    return;
  }
  // SPEC §8.1: the attachment's data, else its url.
  const from: TextSource = data !== undefined ? { kind: 'data', data } : { kind: 'url', url: (url as string).trim() };
  texts.push({ group, part: `${group}[${index}]`, html: media === 'text/html', typed: attachment.contentType !== undefined, from });
}

function planDocument(d: DocumentReference): PlannedNote | undefined {
  const content: unknown = d.content;
  if (!Array.isArray(content) || content.length === 0) {
    return undefined;
  }
  const texts: PlannedText[] = [];
  const unsupported: UnsupportedAttachment[] = [];
  for (let i = 0; i < content.length; i++) {
    const c: unknown = content[i];
    planAttachment(isObject(c) ? c.attachment : undefined, 'content', i, texts, unsupported);
  }
  if (texts.length === 0 && unsupported.length === 0) {
    return undefined;
  }
  return { resource: d, source: 'document', date: documentDate(d), texts, unsupported: unsupported.length > 0 ? unsupported : NO_UNSUPPORTED };
}

function planReport(r: DiagnosticReport): PlannedNote | undefined {
  const conclusion: unknown = r.conclusion;
  const forms: unknown = r.presentedForm;
  const hasConclusion = typeof conclusion === 'string' && conclusion.trim() !== '';
  if (!hasConclusion && !(Array.isArray(forms) && forms.length > 0)) {
    // Most reports (a lab panel) carry no narrative: the common case allocates nothing.
    return undefined;
  }
  const texts: PlannedText[] = [];
  const unsupported: UnsupportedAttachment[] = [];
  if (hasConclusion) {
    texts.push({ group: 'conclusion', part: 'conclusion', html: false, typed: true, from: { kind: 'plain', text: conclusion } });
  }
  if (Array.isArray(forms)) {
    for (let i = 0; i < forms.length; i++) {
      planAttachment(forms[i], 'presentedForm', i, texts, unsupported);
    }
  }
  if (texts.length === 0 && unsupported.length === 0) {
    return undefined;
  }
  return { resource: r, source: 'report', date: reportDate(r), texts, unsupported: unsupported.length > 0 ? unsupported : NO_UNSUPPORTED };
}

/** Plans are built once per gathered record: the follow-up and the selection read the same one. */
const plans = new WeakMap<Sources, readonly PlannedNote[]>();

/**
 * The counted notes of the record that hold something to read, newest first by their text's date;
 * undated notes after dated ones, each group in the order the record gave them.
 * @param record - the gathered record (its DocumentReference and DiagnosticReport sources)
 */
export function planNotes(record: Pick<PatientRecord, 'sources'>): readonly PlannedNote[] {
  const cached = plans.get(record.sources);
  if (cached) {
    return cached;
  }
  const notes: PlannedNote[] = [];
  for (const d of record.sources.DocumentReference.resources) {
    const note = documentCounts(d) ? planDocument(d) : undefined;
    if (note) {
      notes.push(note);
    }
  }
  for (const r of record.sources.DiagnosticReport.resources) {
    const note = reportTextsCount(r) ? planReport(r) : undefined;
    if (note) {
      notes.push(note);
    }
  }
  // A stable sort: notes of one date keep the record's order.
  notes.sort((a, b) => (b.date?.start ?? -Infinity) - (a.date?.start ?? -Infinity) || 0);
  const plan = notes.length > 0 ? notes : NO_NOTES;
  plans.set(record.sources, plan);
  return plan;
}

/**
 * The Binary URLs the selection will read: those of the newest `limits.texts` texts (every text of a read
 * type takes its place in that count, whatever becomes of it), never one that would be left out. Contained
 * (`#id`) Binaries are in the resource already.
 * @param record - the gathered record
 * @param limits - the text limit (SPEC §8.1)
 */
export function noteTextUrls(record: Pick<PatientRecord, 'sources'>, limits: NoteLimits = NOTE_LIMITS): string[] {
  const urls: string[] = [];
  let slots = 0;
  for (const note of planNotes(record)) {
    for (const text of note.texts) {
      if (slots++ >= limits.texts) {
        return urls;
      }
      if (text.from.kind === 'url' && !text.from.url.startsWith('#')) {
        urls.push(text.from.url);
      }
    }
  }
  return urls;
}
