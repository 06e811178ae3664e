import { gatherRecord, type PrefetchTemplate } from '../fhir/data-source.js';
import { fhirKitReader } from '../fhir/fhir-reader.js';
import { noteAttachmentReads } from '../fhir/note-attachments.js';
import { readNoteTexts } from '../facts/note-texts.js';
import { quoteOf, readNote, type Mention } from '../notes/index.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { policyLookup } from '../policy/policy-lookup.js';

/** How the ordering page marks a mention: what the reader concluded about it (SPEC §8.3, §8.4). */
export type MentionMark = 'affirmed' | 'absent' | 'possible' | 'hypothetical' | 'historical' | 'another person';

/** One mention as the page highlights it. */
export interface ViewedMention {
  /** Offsets in the note's plain text (HTML converted), where the page draws it. */
  readonly plainStart: number;
  readonly plainEnd: number;
  /** Offsets in the text as stored: what `determination.evidence[].span` names. */
  readonly start: number;
  readonly end: number;
  readonly set: string;
  /** The policy's words for the fact the phrase set belongs to. */
  readonly words: string;
  readonly mark: MentionMark;
  /** The sentence the card quotes for it. */
  readonly quote: string;
}

/** One text of a note, read as the service reads it. */
export interface ViewedNote {
  readonly reference: string;
  readonly part: string;
  readonly label: string;
  readonly date?: string;
  readonly text: string;
  readonly mentions: readonly ViewedMention[];
}

const NOTE_TEMPLATES: readonly PrefetchTemplate[] = [
  { key: 'documentReferences', type: 'DocumentReference', query: 'DocumentReference?patient={{context.patientId}}' },
  { key: 'diagnosticReports', type: 'DiagnosticReport', query: 'DiagnosticReport?patient={{context.patientId}}' },
];

function markOf(m: Mention): MentionMark {
  if (m.kind === 'negating-phrase' ? !m.scopedByNegation : m.negated) {
    return 'absent';
  }
  if (m.other) {
    return 'another person';
  }
  if (m.hypothetical) {
    return 'hypothetical';
  }
  if (m.possible) {
    return 'possible';
  }
  return m.historical ? 'historical' : 'affirmed';
}

/**
 * The demo's view of a patient's notes: each text read from the demo's FHIR server exactly as the service reads it
 * (the same search, Binary reads and limits), with every mention of every phrase set and what the reader made of it,
 * so the ordering page can highlight them and link a card's quote to its place. Demo only: a real EHR shows its own
 * notes.
 * @param loaded - the policy and its lexicon
 * @param fhirServer - the demo's FHIR base URL
 * @param patientId - the patient
 */
export async function viewNotes(loaded: LoadedPolicy, fhirServer: string, patientId: string): Promise<ViewedNote[]> {
  const record = await gatherRecord(
    NOTE_TEMPLATES,
    { patientId, context: { patientId }, fhirServer },
    { readerFactory: fhirKitReader, deadlineMs: 4000, maxPages: 20 },
    { followUps: [noteAttachmentReads] },
  );
  const facts = policyLookup(loaded.policy).facts;
  // Reports are read with every phrase set, the report-only ones included (SPEC §8.4); other notes with the default.
  const everySet = new Set(loaded.lexicon.setNames);
  return readNoteTexts(record).texts.map((t) => {
    const reading = readNote(t.text, loaded.lexicon, { html: t.html, ...(t.source === 'report' ? { sets: everySet } : {}), ...(t.date ? { noteDate: t.date.start } : {}) });
    return {
      reference: t.reference,
      part: t.part,
      label: t.label,
      ...(t.date ? { date: new Date(t.date.start).toISOString().slice(0, 10) } : {}),
      text: reading.text,
      mentions: reading.mentions.map((m) => ({
        plainStart: m.plainStart,
        plainEnd: m.plainEnd,
        start: m.start,
        end: m.end,
        set: m.set,
        words: facts.get(m.set.split('#')[0] ?? m.set)?.words ?? m.set,
        mark: markOf(m),
        quote: quoteOf(reading, m.plainStart, m.plainEnd),
      })),
    };
  });
}
