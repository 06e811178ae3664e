/**
 * The texts of the patient's notes, ready to read (SPEC §8.1): decoded, newest first, within the limits,
 * with a count of every note that could not be read and why. Pure and synchronous: the Binaries were
 * fetched by the follow-up read of src/fhir/note-attachments.ts, which works from the same plan
 * (note-plan.ts).
 *
 * Note text is clinical content: nothing here logs, and nothing that carries text should be logged.
 */
import type { DiagnosticReport, DocumentReference } from 'fhir/r4.js';
import { isObject } from '../fhir/fhir-session.js';
import { NOTE_LIMITS, isTextType, mediaType, planNotes, type NoteLimits, type PlannedNote, type PlannedText, type TextGroup } from './note-plan.js';
import type { PatientRecord, SourceFailure } from '../fhir/patient-record.js';
import type { FhirDate } from './fhir-dates.js';
import { referenceOf, type RecordIndex } from './record-index.js';

/** Why a note was not read, for the card (SPEC §8.1: "how many notes could not be read and why"). */
export type NoteUnreadReason =
  /** PDF, RTF, images…: a type that is not text/plain or text/html. */
  | 'unsupported-format'
  /** The Binary could not be read (an error, the deadline), or what came back was no readable text. */
  | 'fetch-failed'
  /** The Binary is not under fhirServer: the EHR's token never leaves for another host. */
  | 'other-host'
  /** Left out past 100 texts or 2,000,000 characters. */
  | 'over-limit'
  /** Its data is not valid base64. */
  | 'undecodable';

/** Reasons in the order the card names them. */
export const NOTE_UNREAD_REASONS: readonly NoteUnreadReason[] = ['unsupported-format', 'fetch-failed', 'other-host', 'over-limit', 'undecodable'];

/** One text of a note, as stored. */
export interface NoteText {
  readonly reference: string;
  /** Where evidence spans point: "content[0]", "presentedForm[1]", "conclusion" (SPEC §8.4). */
  readonly part: string;
  /**
   * The base64-decoded attachment (or Binary.data, or the conclusion) exactly as stored, HTML markup
   * included: evidence spans are UTF-16 offsets into this string.
   */
  readonly text: string;
  readonly html: boolean;
  /** SPEC §8.1 for documents, §2 for reports. An undated text counts only where the note window is "any". */
  readonly date?: FhirDate;
  /** The note's type or title for the card ("Progress note"). */
  readonly label: string;
  readonly source: 'document' | 'report';
  /** The report a report's text came from (the integrator's rules read its code, study and date). */
  readonly report?: DiagnosticReport;
}

export interface NoteTexts {
  /** Newest first; undated texts after dated ones. At most `limits.texts`, at most `limits.characters` in all. */
  readonly texts: readonly NoteText[];
  /** Characters (UTF-16 code units) of all texts together. */
  readonly characters: number;
  /** Notes (a DocumentReference, a DiagnosticReport) not read in full, once each, by reason. */
  readonly unread: Readonly<Partial<Record<NoteUnreadReason, number>>>;
  /** The media types behind 'unsupported-format' ("application/pdf"), each once, in order of appearance. */
  readonly unsupportedFormats: readonly string[];
  /**
   * SPEC §8.1 "partly read": a note could not be read, the notes query (or the reports query) failed, or
   * something was left out past the limits. Notes then make no ask fact false (SPEC §8.4).
   */
  readonly partlyRead: boolean;
  /** Why the DocumentReference search failed, when it did. */
  readonly queryFailed?: SourceFailure;
}

const NONE: readonly never[] = Object.freeze([]);
const ALL_READ: NoteTexts = Object.freeze({ texts: NONE, characters: 0, unread: Object.freeze({}), unsupportedFormats: NONE, partlyRead: false });

/** Why one text could not be read; an unsupported Binary names its type. */
interface Unread {
  readonly reason: NoteUnreadReason;
  readonly format?: string;
}

const UNDECODABLE: Unread = { reason: 'undecodable' };
const OVER_LIMIT: Unread = { reason: 'over-limit' };
const FETCH_FAILED: Unread = { reason: 'fetch-failed' };
const OTHER_HOST: Unread = { reason: 'other-host' };

/** RFC 4648 §4 base64, padded: the standard alphabet, then at most two `=`. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Whitespace FHIR base64Binary allows between characters (MIME line breaks among it). */
const WHITESPACE = /[\t\n\f\r ]/;
const WHITESPACE_RUNS = /[\t\n\f\r ]+/g;

/**
 * The number of bytes a strict base64 text holds, or -1 when it is not base64: the standard alphabet, padded
 * to a multiple of four with at most two `=` at the end, whitespace between characters allowed. Node's own
 * decoder would skip any stray character and decode the rest, turning a corrupt attachment into plausible
 * text. One regular-expression scan for an unbroken text (V8 runs it faster than a character loop); a copy
 * only when the text holds whitespace.
 * @param data - the attachment's data
 */
export function base64ByteLength(data: string): number {
  let bare = data;
  if (bare.length % 4 !== 0 || !BASE64.test(bare)) {
    // Most attachments are one unbroken line, read in one scan; only a failed one is looked at again.
    if (!WHITESPACE.test(data)) {
      return -1;
    }
    bare = data.replace(WHITESPACE_RUNS, '');
    if (bare.length % 4 !== 0 || !BASE64.test(bare)) {
      return -1;
    }
  }
  const pad = bare.endsWith('==') ? 2 : bare.endsWith('=') ? 1 : 0;
  return (bare.length / 4) * 3 - pad;
}

/**
 * Decodes base64 of UTF-8 text, or says why not. Invalid UTF-8 never throws: each ill-formed sequence
 * becomes U+FFFD (the WHATWG decoder Node's Buffer uses), so a stray Latin-1 byte costs one character and
 * not the note; a byte-order mark is kept, as any other reader of the same bytes keeps it, so offsets into
 * the text agree with theirs. A text that cannot fit the characters left is not decoded at all: UTF-8 needs
 * at most three bytes per UTF-16 code unit, so more than 3 × `room` bytes cannot fit.
 * @param data - the base64 value
 * @param room - characters left in the budget
 */
export function decodeText(data: unknown, room: number): string | Unread {
  if (typeof data !== 'string') {
    return UNDECODABLE;
  }
  const bytes = base64ByteLength(data);
  if (bytes < 0) {
    return UNDECODABLE;
  }
  if (bytes > 3 * room) {
    return OVER_LIMIT;
  }
  const text = Buffer.from(data, 'base64').toString('utf8');
  return text.length > room ? OVER_LIMIT : text;
}

/** The Binary a url names: read by the follow-up (keyed by the url as written) or contained in the note. */
function binaryFor(url: string, resource: DocumentReference | DiagnosticReport, record: PatientRecord): { readonly binary: Record<string, unknown> } | Unread {
  if (url.startsWith('#')) {
    const contained: unknown = resource.contained;
    const id = url.slice(1);
    const found: unknown = Array.isArray(contained) ? contained.find((c: unknown) => isObject(c) && c.id === id) : undefined;
    return isObject(found) ? { binary: found } : FETCH_FAILED;
  }
  const read = record.related.get(url) as unknown;
  if (isObject(read)) {
    return { binary: read };
  }
  return record.relatedFailures.get(url) === 'other-host' ? OTHER_HOST : FETCH_FAILED;
}

/** One planned text, read: its string and whether it is HTML, or why it could not be read. */
function readText(t: PlannedText, resource: DocumentReference | DiagnosticReport, record: PatientRecord, room: number): { text: string; html: boolean } | Unread {
  const from = t.from;
  switch (from.kind) {
    case 'plain':
      return from.text.length > room ? OVER_LIMIT : { text: from.text, html: t.html };
    case 'data': {
      const text = decodeText(from.data, room);
      return typeof text === 'string' ? { text, html: t.html } : text;
    }
    case 'url': {
      const found = binaryFor(from.url, resource, record);
      if ('reason' in found) {
        return found;
      }
      const binary = found.binary;
      if (binary.resourceType !== 'Binary') {
        return FETCH_FAILED;
      }
      // The Binary's own type is what its bytes are: a PDF behind a text/plain attachment is still a PDF.
      const media = binary.contentType === undefined ? undefined : mediaType(binary.contentType);
      if (media !== undefined && !isTextType(media)) {
        return { reason: 'unsupported-format', format: media };
      }
      if (binary.data === undefined) {
        return FETCH_FAILED;
      }
      const text = decodeText(binary.data, room);
      return typeof text === 'string' ? { text, html: t.html || (!t.typed && media === 'text/html') } : text;
    }
  }
}

function conceptLabel(concept: unknown): string | undefined {
  if (!isObject(concept)) {
    return undefined;
  }
  if (typeof concept.text === 'string' && concept.text.trim() !== '') {
    return concept.text.trim();
  }
  const codings: unknown = concept.coding;
  if (Array.isArray(codings)) {
    for (const c of codings) {
      if (isObject(c) && typeof c.display === 'string' && c.display.trim() !== '') {
        return c.display.trim();
      }
    }
  }
  return undefined;
}

function attachmentTitle(d: DocumentReference): string | undefined {
  const content: unknown = d.content;
  if (Array.isArray(content)) {
    for (const c of content) {
      const a: unknown = isObject(c) ? c.attachment : undefined;
      if (isObject(a) && typeof a.title === 'string' && a.title.trim() !== '') {
        return a.title.trim();
      }
    }
  }
  return undefined;
}

/** The note's type text or display, else its title, for the card ("Progress note"). */
function labelOf(note: PlannedNote): string {
  if (note.source === 'report') {
    return conceptLabel(note.resource.code) ?? 'Diagnostic report';
  }
  const d = note.resource;
  const description = typeof d.description === 'string' && d.description.trim() !== '' ? d.description.trim() : undefined;
  return conceptLabel(d.type) ?? attachmentTitle(d) ?? description ?? 'Clinical note';
}

const GROUPS: readonly TextGroup[] = ['content', 'conclusion', 'presentedForm'];

/**
 * The texts of §8.1 from a gathered record.
 *
 * - Order: notes newest first by their text's date, undated ones last; a note's texts in element order
 *   (a report's conclusion before its presented forms).
 * - Text limit: the newest `limits.texts` texts of a read type each take a place, whatever becomes of
 *   them; the follow-up fetched exactly those, so an older text never stands in for one that failed.
 * - Character limit: a text that would take the total past `limits.characters` is left out whole and
 *   counted 'over-limit', and older, shorter texts may still be read. A cut text would end mid-sentence
 *   ("denies fever and saddle anesth…") and change what its last sentence asserts; and one 5 MB attachment
 *   should not crowd out every other note of the record.
 * - Renditions: a document's content items, and a report's presented forms, are one note in several
 *   formats (FHIR R4). A group read in any text format is read, so an HTML note with a PDF copy beside it
 *   is not "unread"; a group read in none counts for the reason of its first text, else as
 *   'unsupported-format'. A report's conclusion is a group of its own.
 * - Counting: each note (a DocumentReference, a DiagnosticReport) not read in full counts once, for the
 *   reason of its first unread group.
 * @param record - the gathered record, with the Binaries the follow-up read
 * @param limits - SPEC §8.1's limits (tests use smaller ones)
 */
export function readNoteTexts(record: PatientRecord, limits: NoteLimits = NOTE_LIMITS): NoteTexts {
  const queryFailed = record.sources.DocumentReference.failure;
  const reportsFailed = record.sources.DiagnosticReport.failure !== undefined;
  const plan = planNotes(record);
  if (plan.length === 0) {
    return queryFailed === undefined && !reportsFailed ? ALL_READ : { ...ALL_READ, partlyRead: true, ...(queryFailed !== undefined ? { queryFailed } : {}) };
  }
  const texts: NoteText[] = [];
  const unread: Partial<Record<NoteUnreadReason, number>> = {};
  const formats: string[] = [];
  let characters = 0;
  let slots = 0;
  let anyUnread = false;
  // Per group of the note at hand: read in some format, or the first reason it was not.
  const read: Record<TextGroup, boolean> = { content: false, conclusion: false, presentedForm: false };
  const failed: Record<TextGroup, Unread | undefined> = { content: undefined, conclusion: undefined, presentedForm: undefined };
  for (const note of plan) {
    read.content = read.conclusion = read.presentedForm = false;
    failed.content = failed.conclusion = failed.presentedForm = undefined;
    let label: string | undefined;
    for (const t of note.texts) {
      const outcome = slots++ < limits.texts ? readText(t, note.resource, record, limits.characters - characters) : OVER_LIMIT;
      if ('reason' in outcome) {
        failed[t.group] ??= outcome;
        continue;
      }
      read[t.group] = true;
      characters += outcome.text.length;
      label ??= labelOf(note);
      texts.push({
        reference: referenceOf(note.resource),
        part: t.part,
        text: outcome.text,
        html: outcome.html,
        ...(note.date !== undefined ? { date: note.date } : {}),
        label,
        source: note.source,
        ...(note.source === 'report' ? { report: note.resource } : {}),
      });
    }
    const why = unreadReason(note, read, failed);
    if (why !== undefined) {
      anyUnread = true;
      unread[why.reason] = (unread[why.reason] ?? 0) + 1;
      if (why.reason === 'unsupported-format' && why.format && !formats.includes(why.format)) {
        formats.push(why.format);
      }
    }
  }
  return {
    texts,
    characters,
    unread,
    unsupportedFormats: formats,
    partlyRead: anyUnread || queryFailed !== undefined || reportsFailed,
    ...(queryFailed !== undefined ? { queryFailed } : {}),
  };
}

/** The texts of a record, read once per index: the orders of one request share them. */
const byIndex = new WeakMap<RecordIndex, NoteTexts>();

/**
 * The texts of §8.1 of the index's record (see readNoteTexts), memoised on the index.
 * @param index - the request's record index
 */
export function noteTextsOf(index: RecordIndex): NoteTexts {
  let notes = byIndex.get(index);
  if (!notes) {
    notes = readNoteTexts(index.record);
    byIndex.set(index, notes);
  }
  return notes;
}

/** Why a note was not read in full: its first group that was read in no format. */
function unreadReason(note: PlannedNote, read: Readonly<Record<TextGroup, boolean>>, failed: Readonly<Record<TextGroup, Unread | undefined>>): Unread | undefined {
  for (const group of GROUPS) {
    if (read[group]) {
      continue;
    }
    const why = failed[group];
    if (why !== undefined) {
      return why;
    }
    const format = note.unsupported.find((u) => u.group === group);
    if (format !== undefined) {
      return { reason: 'unsupported-format', format: format.contentType };
    }
  }
  return undefined;
}
