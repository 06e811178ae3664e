import { Ajv } from 'ajv';
import type { Coding } from 'fhir/r4.js';
import type { Decision } from '../engine/decide.js';
import { NOTE_UNREAD_REASONS, type NoteUnreadReason } from '../facts/note-texts.js';
import { readProjectJson } from '../project-root.js';

type ByDecision<T> = Readonly<Record<Decision, T>>;

/** The words of the unread-notes sentence (SPEC §8.1), `detail.notesUnread`. */
export interface UnreadNotesWording {
  /** "1 note could not be read" */
  readonly one: string;
  /** "{{count}} notes could not be read" */
  readonly many: string;
  /** One phrase per reason, after its count: "in an unsupported format{{formats}}". */
  readonly reasons: Readonly<Record<NoteUnreadReason, string>>;
  /** Names of media types for the card ("application/pdf": "PDF"); "image/*" names every image type. */
  readonly formats: Readonly<Record<string, string>>;
}

/** The card templates of cards/determination.json. */
export interface CardTemplates {
  readonly source: { readonly label: string; readonly topic: Coding };
  readonly indicator: ByDecision<'info' | 'warning' | 'critical'>;
  readonly summary: ByDecision<string> & {
    readonly 'no-indication': string;
    readonly unchecked: string;
    readonly or: string;
    readonly more: string;
  };
  readonly detail: {
    readonly decision: ByDecision<string>;
    readonly met: string;
    readonly missing: string;
    readonly missingSpan: string;
    /** The measured span beside a fact that holds ("documented: 35 days, …"). */
    readonly span: string;
    /** A sentence quoted from a note that affirms a fact (SPEC §8.4): quote, label, date, reference. */
    readonly noteLine: string;
    /** A sentence quoted from a note that denies an ask fact (SPEC §8.4). */
    readonly noteAbsentLine: string;
    /** How a note's date follows its label. */
    readonly noteDate: string;
    /** When a fact has more note mentions than the card quotes. */
    readonly moreNotes: string;
    /** The heading of ask facts that notes made false. */
    readonly absent: string;
    readonly nonIndication: string;
    readonly possibleNonIndication: string;
    readonly noIndication: string;
    readonly answers: string;
    readonly answerLine: string;
    readonly codedNote: string;
    readonly unchecked: string;
    readonly uncheckedNote: string;
    readonly noCoverage: string;
    readonly coverageUnreadable: string;
    readonly notesUnread: UnreadNotesWording;
    readonly policy: string;
  };
  readonly links: readonly { readonly label: string; readonly url: string; readonly type: 'absolute' | 'smart' }[];
  readonly questionnaireLinks: { readonly missing: string; readonly full: string };
  /** The label of a link to a clause the card cites ({{clause}}: "Indications ¶3", {{label}}: the criterion). */
  readonly clauseLink: string;
  readonly overrideReasons: readonly Coding[];
  readonly coverageInformation: {
    readonly description: string;
    readonly noneReadable: string;
    readonly coverageDisplay: string;
    readonly missingReason: string;
    readonly notCoveredReason: string;
  };
}

const decisions = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'];
const stringsOf = (keys: readonly string[]): object => ({
  type: 'object',
  required: keys,
  properties: Object.fromEntries(keys.map((k) => [k, { type: 'string', minLength: 1 }])),
});

const schema = {
  type: 'object',
  required: ['source', 'indicator', 'summary', 'detail', 'links', 'questionnaireLinks', 'clauseLink', 'overrideReasons', 'coverageInformation'],
  properties: {
    source: { type: 'object', required: ['label', 'topic'] },
    indicator: { type: 'object', required: decisions, additionalProperties: { enum: ['info', 'warning', 'critical'] } },
    summary: stringsOf([...decisions, 'no-indication', 'unchecked', 'or', 'more']),
    detail: {
      type: 'object',
      required: ['decision', 'met', 'missing', 'missingSpan', 'span', 'noteLine', 'noteAbsentLine', 'noteDate', 'moreNotes', 'absent', 'nonIndication', 'possibleNonIndication', 'noIndication', 'answers', 'answerLine', 'codedNote', 'unchecked', 'uncheckedNote', 'noCoverage', 'coverageUnreadable', 'notesUnread', 'policy'],
      properties: {
        decision: stringsOf(decisions),
        notesUnread: {
          type: 'object',
          required: ['one', 'many', 'reasons', 'formats'],
          properties: {
            one: { type: 'string', minLength: 1 },
            many: { type: 'string', minLength: 1 },
            reasons: stringsOf(NOTE_UNREAD_REASONS),
            formats: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    links: { type: 'array', items: { type: 'object', required: ['label', 'url', 'type'] } },
    questionnaireLinks: stringsOf(['missing', 'full']),
    clauseLink: { type: 'string', minLength: 1 },
    overrideReasons: { type: 'array', minItems: 1, items: { type: 'object', required: ['system', 'code', 'display'] } },
    coverageInformation: stringsOf(['description', 'noneReadable', 'coverageDisplay', 'missingReason', 'notCoveredReason']),
  },
};

/**
 * Loads and validates the card templates, so a broken template fails at start rather than in a
 * clinician's signing click.
 */
export function loadCardTemplates(): CardTemplates {
  const data = readProjectJson('cards', 'determination.json');
  const ajv = new Ajv({ strict: false });
  if (!ajv.validate(schema, data)) {
    throw new Error(`cards/determination.json: ${ajv.errorsText()}`);
  }
  return data as CardTemplates;
}

/**
 * Fills `{{name}}` placeholders. An unknown placeholder is left visible rather than silently blank, so a
 * template mistake shows in review.
 * @param template - text with placeholders
 * @param values - placeholder values
 */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, name: string) => values[name] ?? m);
}
