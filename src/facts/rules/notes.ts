/**
 * Evidence from the patient's notes and narrative reports (SPEC §8.4–§8.6). Each text is read once per request
 * (per set of phrase sets matched in it) by the pure reader in src/notes; this file decides which texts a rule
 * reads, which of their mentions count by date, and whether a mention affirms or denies the finding.
 */
import { isAffirming, isNegating, quoteOf, readNote, type CareMention, type Mention, type NoteReading } from '../../notes/index.js';
import type { EvidenceRule, NoteFlag, NoteWindow, Policy } from '../../policy/policy-types.js';
import { DAY_MS, compareDates, isoDay, onOrAfter, type FhirDate } from '../fhir-dates.js';
import { noteTextsOf, type NoteText } from '../note-texts.js';
import { NOTHING, dedupe, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';
import { latestStudy, selectStudies } from './studies.js';

const NOT_FOUND: RuleResult = Object.freeze({ value: 'false', evidence: NOTHING, unreadable: NOTHING });

/** The note rules whose phrases are matched only in certain reports (SPEC §8.4), per policy. */
const restrictedByPolicy = new WeakMap<Policy, readonly RuleOf<'note'>[]>();

function restrictedRules(policy: Policy): readonly RuleOf<'note'>[] {
  let rules = restrictedByPolicy.get(policy);
  if (!rules) {
    const found: RuleOf<'note'>[] = [];
    const visit = (rule: EvidenceRule | undefined): void => {
      if (!rule) {
        return;
      }
      if (rule.kind === 'any' || rule.kind === 'all') {
        rule.of.forEach(visit);
      } else if (rule.kind === 'note' && 'reports' in rule.window) {
        found.push(rule);
      }
    };
    for (const f of policy.facts) {
      visit(f.evidence);
      visit(f.unknownWhen);
      visit(f.requires);
    }
    rules = found;
    restrictedByPolicy.set(policy, rules);
  }
  return rules;
}

/** Readings of one text, by the restricted phrase sets matched in it besides every other set. */
const readings = new WeakMap<NoteText, Map<string, NoteReading>>();

/**
 * The reading of a text with the phrase sets that apply to it: every unrestricted set, and the restricted sets of
 * the rules for which this text is one of the reports they read ("phrases of a fact that does not read a text are
 * not matched in that text", SPEC §8.4 — they would otherwise hide triggers such as "cannot be excluded").
 */
function readingOf(text: NoteText, ctx: RuleContext): NoteReading {
  const extra: string[] = [];
  for (const rule of restrictedRules(ctx.policy)) {
    if (!extra.includes(rule.phrases) && isReadBy(rule.window, text, ctx)) {
      extra.push(rule.phrases);
    }
  }
  const key = extra.join('\u0000');
  let byKey = readings.get(text);
  if (!byKey) {
    byKey = new Map();
    readings.set(text, byKey);
  }
  let reading = byKey.get(key);
  if (!reading) {
    reading = readNote(text.text, ctx.lexicon, {
      html: text.html,
      ...(text.date ? { noteDate: text.date.start } : {}),
      ...(extra.length > 0 ? { sets: new Set([...ctx.lexicon.defaultSets, ...extra]) } : {}),
    });
    byKey.set(key, reading);
  }
  return reading;
}

/** Whether a rule reads a text at all: reports-only rules read only their reports; the others read every text. */
function isReadBy(window: NoteWindow, text: NoteText, ctx: RuleContext): boolean {
  if (!('reports' in window)) {
    return true;
  }
  const report = text.report;
  if (!report || !text.date) {
    return false;
  }
  const { about, after } = window.reports;
  if (after) {
    const study = latestStudy(after, ctx);
    if (!study?.date || compareDates(text.date, study.date) <= 0) {
      return false;
    }
  }
  if (about) {
    // As the coded rule reads a conclusion (SPEC §4): the report references the study, or is dated on or after it.
    const refs = (Array.isArray(report.imagingStudy) ? report.imagingStudy : []).map((r) => (typeof r?.reference === 'string' ? r.reference : ''));
    const date = text.date;
    return selectStudies(about, ctx).some(
      (s) => refs.some((r) => r === s.reference || r.endsWith(`/${s.reference}`)) || (s.date !== undefined && compareDates(date, s.date) >= 0),
    );
  }
  return true;
}

/** Whether a text's mentions count for a rule by the text's date (SPEC §8.5 windows). */
function isDatedInside(window: NoteWindow, date: FhirDate | undefined, ctx: RuleContext): boolean {
  if ('anyDate' in window) {
    return true;
  }
  if (!date) {
    // SPEC §8.1: a text without a date counts only where the window is "any date".
    return false;
  }
  if ('withinDays' in window) {
    return onOrAfter(date, ctx.now - window.withinDays * DAY_MS);
  }
  if ('afterLatest' in window) {
    const study = latestStudy(window.afterLatest, ctx);
    return study?.date !== undefined && compareDates(date, study.date) > 0;
  }
  // Reports-only rules: the report's relation to the study was the test.
  return true;
}

const NO_MENTIONS: readonly Mention[] = Object.freeze([]);

/** A reading's mentions by phrase set, in text order, grouped once per reading: every note rule (§8.4) reads one set. */
const bySet = new WeakMap<NoteReading, Map<string, Mention[]>>();

function mentionsOf(reading: NoteReading, set: string): readonly Mention[] {
  let sets = bySet.get(reading);
  if (!sets) {
    sets = new Map();
    for (const m of reading.mentions) {
      const list = sets.get(m.set);
      if (list) {
        list.push(m);
      } else {
        sets.set(m.set, [m]);
      }
    }
    bySet.set(reading, sets);
  }
  return sets.get(set) ?? NO_MENTIONS;
}

/** The calendar day of a text (§8.4 evidence date), formatted once per text: a long chart cites thousands of mentions. */
const daysOf = new WeakMap<NoteText, string>();

function dayOf(text: NoteText): string | undefined {
  if (!text.date) {
    return undefined;
  }
  let day = daysOf.get(text);
  if (day === undefined) {
    day = isoDay(text.date.start);
    daysOf.set(text, day);
  }
  return day;
}

/** The evidence a mention gives: the note, the span of the matched phrase, the sentence around it. */
function cite(text: NoteText, reading: NoteReading, span: { start: number; end: number; plainStart: number; plainEnd: number }, assertion: 'affirmed' | 'negated'): Evidence {
  const quote = quoteOf(reading, span.plainStart, span.plainEnd);
  const date = dayOf(text);
  return {
    reference: text.reference,
    what: quote,
    ...(date !== undefined ? { date } : {}),
    note: { assertion, span: { in: text.part, start: span.start, end: span.end }, quote, label: text.label, ...(date !== undefined ? { date } : {}) },
  };
}

/**
 * A note rule (SPEC §8.4): true when an affirming mention of the phrase set is dated inside the window; otherwise
 * false — notes are an added source, so an unread note makes no fact unknown — with the denying mentions when the
 * notes were read whole, for an ask fact to become false on them.
 */
export function noteRule(rule: RuleOf<'note'>, ctx: RuleContext): RuleResult {
  const notes = noteTextsOf(ctx.index);
  if (notes.texts.length === 0) {
    return NOT_FOUND;
  }
  const affirming: Evidence[] = [];
  const negating: Evidence[] = [];
  for (const text of notes.texts) {
    if (!isDatedInside(rule.window, text.date, ctx) || !isReadBy(rule.window, text, ctx)) {
      continue;
    }
    const reading = readingOf(text, ctx);
    for (const m of mentionsOf(reading, rule.phrases)) {
      if (isAffirming(m, rule.accepts ?? NOTHING)) {
        affirming.push(cite(text, reading, m, 'affirmed'));
      } else if (affirming.length === 0 && !notes.partlyRead && isNegating(m)) {
        negating.push(cite(text, reading, m, 'negated'));
      }
    }
  }
  if (affirming.length > 0) {
    return { value: 'true', evidence: dedupe(affirming), unreadable: NOTHING };
  }
  return negating.length > 0 ? { value: 'false', evidence: NOTHING, unreadable: NOTHING, negating: dedupe(negating) } : NOT_FOUND;
}

/** A conservative-care record found in a note (SPEC §8.6), before it enters the §4.1 span. */
export interface NoteCareRecord {
  readonly evidence: Evidence;
  readonly start: FhirDate;
  readonly end: number;
}

/** Care mentions count when affirming with history accepted (SPEC §8.6: "completed 6 weeks of PT" is past care). */
const CARE_ACCEPTS: readonly NoteFlag[] = ['historical'];

/**
 * SPEC §8.6: each dated text's affirmed modality bound to a duration or a date gives a record from the note's date
 * minus the duration (or from the date) to the note's date; its evidence span is the modality phrase.
 */
export function noteCareRecords(ctx: RuleContext): NoteCareRecord[] {
  const notes = noteTextsOf(ctx.index);
  const records: NoteCareRecord[] = [];
  for (const text of notes.texts) {
    if (!text.date) {
      continue;
    }
    const reading = readingOf(text, ctx);
    for (const care of reading.care) {
      const record = careRecordOf(care, text, reading);
      if (record) {
        records.push(record);
      }
    }
  }
  return records;
}

function careRecordOf(care: CareMention, text: NoteText, reading: NoteReading): NoteCareRecord | undefined {
  if (!text.date || !isAffirming(care, CARE_ACCEPTS)) {
    return undefined;
  }
  const end = text.date.start;
  const start = care.basis === 'date' ? care.startsAt : end - care.days * DAY_MS;
  if (!(start <= end)) {
    return undefined;
  }
  return { evidence: cite(text, reading, care.modality, 'affirmed'), start: { start, precision: 'day' }, end };
}
