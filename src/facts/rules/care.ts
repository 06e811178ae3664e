/** Conservative management (SPEC §4.1): care records from procedures and prescriptions, and their span. */
import type { Duration, MedicationRequest, Procedure } from 'fhir/r4.js';
import type { SourceType } from '../../fhir/patient-record.js';
import type { CareDefinition } from '../../policy/policy-types.js';
import { DAY_MS, compareDates, isoDay, parseFhirDate, type FhirDate } from '../fhir-dates.js';
import { referenceOf, statusOf } from '../record-index.js';
import { noteCareRecords } from './notes.js';
import { closedWorld, displayOf, type Evidence, type NoteCitation, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';
import { afterLatest } from './studies.js';

/** A conservative-care record with its start and end (SPEC §4.1). */
export interface CareRecord {
  readonly reference: string;
  readonly what: string;
  readonly code?: string;
  readonly start: FhirDate;
  readonly end: number;
  /** A record read in a note (SPEC §8.6): the modality phrase and its sentence. */
  readonly note?: NoteCitation;
}


export function careDefinition(ctx: RuleContext, name: string): CareDefinition {
  const def = ctx.policy.care[name];
  if (!def) {
    throw new Error(`policy names unknown care definition '${name}'`);
  }
  return def;
}

export function procedureStart(p: Procedure): FhirDate | undefined {
  return parseFhirDate(p.performedPeriod?.start) ?? parseFhirDate(p.performedDateTime);
}

/** Days per unit of a supply duration: UCUM codes (d, wk, mo, a, h) and the unit words EHRs send in `unit`. */
const DAYS_PER_UNIT: Readonly<Record<string, number>> = {
  d: 1, day: 1, days: 1,
  wk: 7, week: 7, weeks: 7,
  mo: 30, month: 30, months: 30,
  a: 365, year: 365, years: 365,
  h: 1 / 24, hour: 1 / 24, hours: 1 / 24,
};

/** SPEC §4.1: an active prescription without a readable supply duration runs this long. */
const DEFAULT_ACTIVE_DAYS = 90;

/**
 * A supply duration in milliseconds, or undefined when it cannot be read (SPEC §4.1: "a supply duration that
 * cannot be read counts as none"): no positive number, or neither its UCUM `code` nor its `unit` text is a
 * known unit. A value without any unit is not read as days: nothing says it is.
 */
export function supplyMs(duration: Duration | undefined): number | undefined {
  if (!duration || typeof duration.value !== 'number' || !Number.isFinite(duration.value) || duration.value <= 0) {
    return undefined;
  }
  for (const unit of [duration.code, duration.unit]) {
    const days = typeof unit === 'string' ? DAYS_PER_UNIT[unit.trim().toLowerCase()] : undefined;
    if (days !== undefined) {
      return duration.value * days * DAY_MS;
    }
  }
  return undefined;
}

/** `numberOfRepeatsAllowed` as a count: absent (or not a whole non-negative number) is 0 (SPEC §4.1). */
function repeatsOf(m: MedicationRequest): number {
  const n = m.dispenseRequest?.numberOfRepeatsAllowed;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/**
 * When a prescription's therapy ends (SPEC §4.1). An `active` one runs for its supply × (1 + repeats), or 90
 * days without a readable supply, and ends no later than now: EHRs leave prescriptions active for years, and a
 * 20-year-old active prescription is not current therapy. A `completed` one ends at authoredOn plus its supply
 * (repeats are not counted: it is over), else at authoredOn.
 * @param m - the MedicationRequest
 * @param status - its status, lower-cased
 * @param start - epoch ms of authoredOn
 * @param now - epoch ms of "now"
 */
export function prescriptionEnd(m: MedicationRequest, status: string, start: number, now: number): number {
  const supply = supplyMs(m.dispenseRequest?.expectedSupplyDuration);
  if (status === 'active') {
    const runs = supply !== undefined ? supply * (1 + repeatsOf(m)) : DEFAULT_ACTIVE_DAYS * DAY_MS;
    return Math.min(start + runs, now);
  }
  return start + (supply ?? 0);
}

/**
 * Conservative-care records with their start and end (SPEC §4.1): a Procedure over its performedPeriod
 * (an in-progress one without an end ends now) or the single day of performedDateTime; a MedicationRequest
 * from authoredOn for as long as `prescriptionEnd` says.
 */
export function careRecords(def: CareDefinition, ctx: RuleContext): CareRecord[] {
  const records: CareRecord[] = [];
  for (const p of ctx.index.procedures) {
    const status = statusOf(p) ?? '';
    const coding = ctx.valueSets.conceptIn(def.procedures, p.code);
    const start = procedureStart(p);
    if (!coding || !start || !def.procedureStatuses.includes(status)) {
      continue;
    }
    const periodEnd = parseFhirDate(p.performedPeriod?.end);
    const end = periodEnd ? periodEnd.start : p.performedPeriod && status === 'in-progress' ? ctx.now : start.start;
    records.push({ reference: referenceOf(p), what: displayOf(coding, p.code), code: `${ctx.valueSets.systemLabel(coding.system)} ${coding.code}`, start, end });
  }
  for (const m of ctx.index.medicationRequests) {
    const status = statusOf(m) ?? '';
    const start = parseFhirDate(m.authoredOn);
    if (!start || !def.medicationStatuses.includes(status)) {
      continue;
    }
    // The medication as coded on the prescription, or on the Medication it refers to: the same test either way.
    const prescribed = ctx.index.prescribed(m);
    if (prescribed.kind !== 'medication') {
      continue;
    }
    const { concept, texts } = prescribed;
    const coding = ctx.valueSets.conceptIn(def.medications, concept);
    const ingredient = coding ? undefined : ctx.valueSets.nameIn(def.medications, texts);
    if (!coding && !ingredient) {
      continue;
    }
    const end = prescriptionEnd(m, status, start.start, ctx.now);
    const what = coding ? displayOf(coding, concept) : (texts[0] ?? String(ingredient));
    records.push({
      reference: referenceOf(m),
      what,
      ...(coding ? { code: `${ctx.valueSets.systemLabel(coding.system)} ${coding.code}` } : {}),
      start,
      end,
    });
  }
  if (def.fromNotes) {
    for (const r of noteCareRecords(ctx)) {
      records.push({ reference: r.evidence.reference, what: r.evidence.what, start: r.start, end: r.end, ...(r.evidence.note ? { note: r.evidence.note } : {}) });
    }
  }
  return records;
}

export function careEvidence(r: CareRecord): Evidence {
  return { reference: r.reference, what: r.what, ...(r.code ? { code: r.code } : {}), date: r.note?.date ?? isoDay(r.start.start), ...(r.note ? { note: r.note } : {}) };
}

/**
 * SPEC §4.1 span: records ending before now minus the look-back are ignored, earlier starts are clipped
 * to it, later ends are cut to now; the span runs from the earliest start to the latest end.
 */
export function careSpanRule(name: string, atLeastDays: number, ctx: RuleContext): RuleResult {
  const def = careDefinition(ctx, name);
  const from = ctx.now - def.lookbackDays * DAY_MS;
  let earliest = Infinity;
  let latest = -Infinity;
  const counted: CareRecord[] = [];
  for (const r of careRecords(def, ctx)) {
    const start = Math.max(r.start.start, from);
    const end = Math.min(r.end, ctx.now);
    if (r.end < from || start > end) {
      continue;
    }
    counted.push(r);
    earliest = Math.min(earliest, start);
    latest = Math.max(latest, end);
  }
  const spanMs = counted.length > 0 ? latest - earliest : 0;
  const days = Math.floor(spanMs / DAY_MS);
  const detail =
    counted.length > 0
      ? `${days} day${days === 1 ? '' : 's'}, from ${isoDay(earliest)} to ${isoDay(latest)}`
      : `none in the last ${def.lookbackDays} days`;
  const evidence = counted.map(careEvidence);
  const sources: SourceType[] = ['Procedure', 'MedicationRequest'];
  if (spanMs >= atLeastDays * DAY_MS) {
    return closedWorld(evidence, sources, ctx, detail);
  }
  // Not long enough: report what was found as detail, but it is not evidence that the rule holds.
  const unreadable = sources.filter((s) => ctx.index.failure(s) !== undefined);
  return { value: unreadable.length > 0 ? 'unknown' : 'false', evidence, unreadable, detail };
}


/** SPEC §4 fact.treatment-since-imaging: a conservative-care record that starts after the latest study. */
export function careRecordRule(rule: RuleOf<'care-record'>, ctx: RuleContext): RuleResult {
  return afterLatest(rule.after, ctx, ['Procedure', 'MedicationRequest'], (anchor) =>
    careRecords(careDefinition(ctx, rule.care), ctx)
      .filter((r) => compareDates(r.start, anchor) > 0)
      .map(careEvidence),
  );
}
