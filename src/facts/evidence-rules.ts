import type { CodeableConcept, Coding, Condition, Duration, ImagingStudy, MedicationRequest, Observation, Procedure, Quantity, ServiceRequest } from 'fhir/r4.js';
import { kleeneAll, kleeneAny, type Truth } from '../engine/truth.js';
import type { SourceType } from '../fhir/patient-record.js';
import type {
  CareDefinition,
  EvidenceRule,
  LatestStudy,
  Policy,
  QuantityThreshold,
  StudyDefinition,
  StudySelection,
} from '../policy/policy-types.js';
import {
  DAY_MS,
  ageInYears,
  compareDates,
  isoDay,
  minusCalendarMonths,
  onOrAfter,
  parseFhirDate,
  type FhirDate,
} from './fhir-dates.js';
import { conceptCodes, isActiveCondition, referenceOf, statusOf, type Dated, type RecordIndex } from './record-index.js';
import type { ValueSets } from './value-sets.js';

/** One piece of evidence: a FHIR reference and what the card says about it. */
export interface Evidence {
  readonly reference: string;
  /** What the record is, in the record's own words (code display or text). */
  readonly what: string;
  /** "ICD-10-CM Z85.46" */
  readonly code?: string;
  /** ISO date (YYYY-MM-DD) of the record. */
  readonly date?: string;
  /** A measured value ("38.9 Cel"). */
  readonly value?: string;
}

/** What a rule found: its three-valued result, the records behind it, and the sources it could not read. */
export interface RuleResult {
  readonly value: Truth;
  readonly evidence: readonly Evidence[];
  readonly unreadable: readonly SourceType[];
  /** A measured quantity the card should show even when the rule is not met (the conservative-care span). */
  readonly detail?: string;
}

/** What facts are computed from: the policy, the patient's indexed record, the order and "now". */
export interface FactInput {
  readonly policy: Policy;
  readonly valueSets: ValueSets;
  readonly index: RecordIndex;
  readonly order: ServiceRequest;
  readonly draftOrders: readonly ServiceRequest[];
  /** "Now" in epoch ms: the order's authoredOn, else the time of the request (SPEC §1). */
  readonly now: number;
}

/** What a rule may read. Facts are looked up through `fact` so that answers apply (SPEC §2). */
export interface RuleContext extends FactInput {
  readonly fact: (id: string) => RuleResult;
}

interface CareRecord {
  readonly reference: string;
  readonly what: string;
  readonly code?: string;
  readonly start: FhirDate;
  readonly end: number;
}

/**
 * Evaluates an evidence rule against the record. Pure and synchronous.
 * @param rule - the rule, from the policy data
 * @param ctx - the record and the moment of evaluation
 */
export function evaluateRule(rule: EvidenceRule, ctx: RuleContext): RuleResult {
  switch (rule.kind) {
    case 'any':
      return combine(rule.of.map((r) => evaluateRule(r, ctx)), kleeneAny);
    case 'all':
      return combine(rule.of.map((r) => evaluateRule(r, ctx)), kleeneAll);
    case 'fact':
      return ctx.fact(rule.fact);
    case 'condition':
      return conditionRule(rule, ctx);
    case 'observation-quantity':
      return observationQuantityRule(rule, ctx);
    case 'observation-value': {
      const found: Evidence[] = [];
      for (const o of ctx.index.observations) {
        const concept = o.resource.valueCodeableConcept;
        const coding = concept === undefined ? undefined : ctx.valueSets.conceptIn(rule.values, concept);
        if (coding) {
          found.push(evidenceOf(o, coding, concept, ctx));
        }
      }
      return found_(found, ['Observation'], ctx);
    }
    case 'weight-drop':
      return weightDropRule(rule, ctx);
    case 'age': {
      const birth = parseFhirDate(ctx.index.patient?.birthDate);
      if (birth && ageInYears(birth, ctx.now) >= rule.atLeastYears) {
        const patient = ctx.index.patient;
        const reference = patient ? referenceOf(patient) : 'Patient';
        return found_([{ reference, what: `age ${ageInYears(birth, ctx.now)} years`, date: isoDay(birth.start) }], ['Patient'], ctx);
      }
      return found_([], ['Patient'], ctx);
    }
    case 'order-code': {
      const coding = ctx.valueSets.conceptIn(rule.codes, ctx.order.code);
      return found_(coding ? [orderEvidence(ctx, coding, ctx.order.code)] : [], [], ctx);
    }
    case 'order-reason': {
      const reasons = Array.isArray(ctx.order.reasonCode) ? ctx.order.reasonCode : [];
      const found = reasons.flatMap((reason) => {
        const coding = ctx.valueSets.conceptIn(rule.codes, reason);
        return coding ? [orderEvidence(ctx, coding, reason)] : [];
      });
      return found_(found, [], ctx);
    }
    case 'care-span':
      return careSpanRule(rule.care, rule.atLeastDays, ctx);
    case 'care-record':
      return afterLatest(rule.after, ctx, ['Procedure', 'MedicationRequest'], (anchor) =>
        careRecords(careDefinition(ctx, rule.care), ctx).filter((r) => compareDates(r.start, anchor) > 0),
      );
    case 'procedure': {
      const select = (anchor?: FhirDate): Evidence[] =>
        ctx.index.procedures.flatMap((p) => {
          const coding = ctx.valueSets.conceptIn(rule.codes, p.code);
          if (!coding || !rule.statuses.includes(statusOf(p) ?? '')) {
            return [];
          }
          const start = procedureStart(p);
          if (anchor && !(start && compareDates(start, anchor) > 0)) {
            return [];
          }
          return [codedEvidence(referenceOf(p), coding, p.code, start, ctx)];
        });
      return rule.after ? afterLatest(rule.after, ctx, ['Procedure'], select) : found_(select(), ['Procedure'], ctx);
    }
    case 'service-request':
      return serviceRequestRule(rule, ctx);
    case 'imaging': {
      const studies = selectStudies(rule, ctx);
      return found_(studies.map((s) => studyEvidence(s, ctx)), ['ImagingStudy'], ctx);
    }
    case 'report-conclusion':
      return reportConclusionRule(rule, ctx);
  }
}

function combine(results: readonly RuleResult[], op: (v: Truth[]) => Truth): RuleResult {
  const value = op(results.map((r) => r.value));
  const contributing = value === 'true' ? results.filter((r) => r.value === 'true') : results;
  const evidence: Evidence[] = [];
  const unreadable: SourceType[] = [];
  let detail: string | undefined;
  for (const r of contributing) {
    evidence.push(...r.evidence);
  }
  for (const r of results) {
    for (const s of r.unreadable) {
      if (!unreadable.includes(s)) {
        unreadable.push(s);
      }
    }
    detail ??= r.detail;
  }
  const result: { -readonly [K in keyof RuleResult]: RuleResult[K] } = { value, evidence: dedupe(evidence), unreadable };
  if (detail !== undefined) {
    result.detail = detail;
  }
  return result;
}

function dedupe(evidence: readonly Evidence[]): readonly Evidence[] {
  if (evidence.length < 2) {
    return evidence;
  }
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const key = `${e.reference}|${e.what}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** One shared, frozen empty list for results that found or missed nothing. */
export const NOTHING: readonly never[] = Object.freeze([]);

/**
 * Closed-world reading of a search (SPEC §2): true when something qualifying was found; otherwise false,
 * unless a source it depends on could not be read, which makes it unknown.
 */
function found_(evidence: readonly Evidence[], sources: readonly SourceType[], ctx: RuleContext, detail?: string): RuleResult {
  // Most records are read whole: then no source list is built at all.
  const unreadable = ctx.index.complete ? NOTHING : sources.filter((s) => ctx.index.failure(s) !== undefined);
  const value: Truth = evidence.length > 0 ? 'true' : unreadable.length > 0 ? 'unknown' : 'false';
  const result: { -readonly [K in keyof RuleResult]: RuleResult[K] } = { value, evidence: dedupe(evidence), unreadable };
  if (detail !== undefined) {
    result.detail = detail;
  }
  return result;
}

function displayOf(coding: Coding, concept: CodeableConcept | undefined): string {
  const text = (typeof coding.display === 'string' && coding.display) || (typeof concept?.text === 'string' && concept.text);
  return text || String(coding.code);
}

function codedEvidence(
  reference: string,
  coding: Coding,
  concept: CodeableConcept | undefined,
  date: FhirDate | undefined,
  ctx: RuleContext,
  value?: string,
): Evidence {
  return {
    reference,
    what: displayOf(coding, concept),
    code: `${ctx.valueSets.systemLabel(coding.system)} ${String(coding.code).trim()}`,
    ...(date ? { date: isoDay(date.start) } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

function evidenceOf<T extends Parameters<typeof referenceOf>[0]>(
  d: Dated<T>,
  coding: Coding,
  concept: CodeableConcept | undefined,
  ctx: RuleContext,
  value?: string,
): Evidence {
  return codedEvidence(d.reference, coding, concept, d.date, ctx, value);
}

function orderEvidence(ctx: RuleContext, coding: Coding, concept: CodeableConcept | undefined): Evidence {
  return codedEvidence(referenceOf(ctx.order), coding, concept, parseFhirDate(ctx.order.authoredOn), ctx);
}

function withinDays(date: FhirDate | undefined, days: number | undefined, now: number): boolean {
  return days === undefined || (date !== undefined && onOrAfter(date, now - days * DAY_MS));
}

type ConditionRule = Extract<EvidenceRule, { kind: 'condition' }>;

// Module functions rather than closures inside conditionRule: it runs for two dozen facts on every request.
function conditionQualifies(rule: ConditionRule, d: Dated<Condition>, ctx: RuleContext, anchor: FhirDate | undefined): boolean {
  const c = d.resource;
  const clinical = rule.clinicalStatus;
  if (clinical === 'active' ? !isActiveCondition(c) : clinical !== 'any' && !conceptCodes(c.clinicalStatus).some((s) => clinical.includes(s))) {
    return false;
  }
  if (rule.verification) {
    const v = conceptCodes(c.verificationStatus);
    const allowed = rule.verification;
    if (v.length === 0 ? !allowed.includes('absent') : !v.some((code) => allowed.includes(code))) {
      return false;
    }
  }
  if (!withinDays(d.date, rule.withinDays, ctx.now)) {
    return false;
  }
  return !anchor || (d.date !== undefined && compareDates(d.date, anchor) > 0);
}

function conditionsMatching(rule: ConditionRule, ctx: RuleContext, anchor?: FhirDate): Evidence[] {
  const found: Evidence[] = [];
  for (const d of ctx.index.conditions) {
    const coding = ctx.valueSets.conceptIn(rule.codes, d.resource.code);
    if (coding && conditionQualifies(rule, d, ctx, anchor)) {
      found.push(evidenceOf(d, coding, d.resource.code, ctx));
    }
  }
  return found;
}

function conditionRule(rule: ConditionRule, ctx: RuleContext): RuleResult {
  return rule.after
    ? afterLatest(rule.after, ctx, ['Condition'], (anchor) => conditionsMatching(rule, ctx, anchor))
    : found_(conditionsMatching(rule, ctx), ['Condition'], ctx);
}

/** UCUM code of a quantity, else its unit text (a temperature sent with a unit but no code still reads). */
function quantityUnit(q: Quantity): string | undefined {
  const system = typeof q.system === 'string' ? q.system.trim() : undefined;
  if (typeof q.code === 'string' && (system === undefined || system === 'http://unitsofmeasure.org')) {
    return q.code.trim();
  }
  return typeof q.unit === 'string' ? q.unit.trim() : undefined;
}

function meets(value: number, unit: string | undefined, t: QuantityThreshold): boolean {
  if (t.unit !== undefined && unit !== t.unit) {
    return false;
  }
  return (t.atLeast === undefined || value >= t.atLeast) && (t.atMost === undefined || value <= t.atMost);
}

function observationQuantityRule(rule: Extract<EvidenceRule, { kind: 'observation-quantity' }>, ctx: RuleContext): RuleResult {
  const found: Evidence[] = [];
  for (const d of ctx.index.observations) {
    const o = d.resource;
    const q = o.valueQuantity;
    if (!q || typeof q.value !== 'number') {
      continue;
    }
    const coding = ctx.valueSets.conceptIn(rule.codes, o.code);
    if (!coding || !withinDays(d.date, rule.withinDays, ctx.now)) {
      continue;
    }
    const value = q.value;
    const unit = quantityUnit(q);
    if (rule.thresholds.some((t) => meets(value, unit, t))) {
      found.push(evidenceOf(d, coding, o.code, ctx, `${value}${unit ? ` ${unit}` : ''}`));
    }
  }
  return found_(found, ['Observation'], ctx);
}

/** Kilograms per unit for body weights (UCUM codes of SPEC §3: kg, g, [lb_av]). */
const KG_PER_UNIT: Readonly<Record<string, number>> = { kg: 1, g: 0.001, '[lb_av]': 0.45359237 };

function weightDropRule(rule: Extract<EvidenceRule, { kind: 'weight-drop' }>, ctx: RuleContext): RuleResult {
  const readings: { d: Dated<Observation>; coding: Coding; kg: number; date: FhirDate; text: string }[] = [];
  for (const d of ctx.index.observations) {
    const q = d.resource.valueQuantity;
    if (!q || typeof q.value !== 'number' || !d.date) {
      continue;
    }
    const unit = quantityUnit(q);
    const factor = KG_PER_UNIT[unit ?? ''];
    const coding = factor === undefined ? undefined : ctx.valueSets.conceptIn(rule.codes, d.resource.code);
    if (!coding || factor === undefined || !withinDays(d.date, rule.withinDays, ctx.now)) {
      continue;
    }
    readings.push({ d, coding, kg: q.value * factor, date: d.date, text: `${q.value} ${unit ?? ''}`.trim() });
  }
  // SPEC §3: the readings do not count if bariatric status is recorded.
  const bariatric = ctx.index.conditions.some((c) => ctx.valueSets.conceptIn(rule.unlessCondition, c.resource.code));
  if (bariatric) {
    return found_([], ['Observation'], ctx);
  }
  // Sorted by date, each reading is compared with the heaviest strictly earlier one: O(n log n), so a
  // record with thousands of weights costs no more than its sort.
  readings.sort((a, b) => a.date.start - b.date.start);
  let heaviest: (typeof readings)[number] | undefined;
  let next = 0;
  for (const later of readings) {
    for (; next < readings.length; next++) {
      const candidate = readings[next];
      if (!candidate || compareDates(candidate.date, later.date) >= 0) {
        break;
      }
      if (!heaviest || candidate.kg > heaviest.kg) {
        heaviest = candidate;
      }
    }
    if (heaviest && later.kg <= heaviest.kg * (1 - rule.atLeastPercent / 100)) {
      return found_(
        [
          evidenceOf(heaviest.d, heaviest.coding, heaviest.d.resource.code, ctx, heaviest.text),
          evidenceOf(later.d, later.coding, later.d.resource.code, ctx, later.text),
        ],
        ['Observation', 'Condition'],
        ctx,
      );
    }
  }
  return found_([], ['Observation', 'Condition'], ctx);
}

function careDefinition(ctx: RuleContext, name: string): CareDefinition {
  const def = ctx.policy.care[name];
  if (!def) {
    throw new Error(`policy names unknown care definition '${name}'`);
  }
  return def;
}

function procedureStart(p: Procedure): FhirDate | undefined {
  return parseFhirDate(p.performedPeriod?.start) ?? parseFhirDate(p.performedDateTime);
}

const DAYS_PER_UNIT: Readonly<Record<string, number>> = {
  d: 1, day: 1, days: 1,
  wk: 7, week: 7, weeks: 7,
  mo: 30, month: 30, months: 30,
  a: 365, year: 365, years: 365,
  h: 1 / 24, hour: 1 / 24, hours: 1 / 24,
};

function durationMs(duration: Duration | undefined): number {
  if (!duration || typeof duration.value !== 'number' || duration.value < 0) {
    return 0;
  }
  const unit = (typeof duration.code === 'string' ? duration.code : typeof duration.unit === 'string' ? duration.unit : 'd').trim().toLowerCase();
  return duration.value * (DAYS_PER_UNIT[unit] ?? 0) * DAY_MS;
}

function medicationTexts(m: MedicationRequest): string[] {
  const concept = m.medicationCodeableConcept;
  const texts: string[] = [];
  if (typeof concept?.text === 'string') {
    texts.push(concept.text);
  }
  for (const c of Array.isArray(concept?.coding) ? concept.coding : []) {
    if (typeof c?.display === 'string') {
      texts.push(c.display);
    }
  }
  if (typeof m.medicationReference?.display === 'string') {
    texts.push(m.medicationReference.display);
  }
  return texts;
}

/**
 * Conservative-care records with their start and end (SPEC §4.1): a Procedure over its performedPeriod
 * (an in-progress one without an end ends now) or the single day of performedDateTime; an active
 * MedicationRequest from authoredOn to now, a completed one to authoredOn plus its expected supply.
 */
function careRecords(def: CareDefinition, ctx: RuleContext): CareRecord[] {
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
    const coding = ctx.valueSets.conceptIn(def.medications, m.medicationCodeableConcept);
    const ingredient = coding ? undefined : ctx.valueSets.nameIn(def.medications, medicationTexts(m));
    if (!coding && !ingredient) {
      continue;
    }
    const end = status === 'active' ? ctx.now : start.start + durationMs(m.dispenseRequest?.expectedSupplyDuration);
    const what = coding ? displayOf(coding, m.medicationCodeableConcept) : (medicationTexts(m)[0] ?? String(ingredient));
    records.push({
      reference: referenceOf(m),
      what,
      ...(coding ? { code: `${ctx.valueSets.systemLabel(coding.system)} ${coding.code}` } : {}),
      start,
      end,
    });
  }
  return records;
}

function careEvidence(r: CareRecord): Evidence {
  return { reference: r.reference, what: r.what, ...(r.code ? { code: r.code } : {}), date: isoDay(r.start.start) };
}

/**
 * SPEC §4.1 span: records ending before now minus the look-back are ignored, earlier starts are clipped
 * to it, later ends are cut to now; the span runs from the earliest start to the latest end.
 */
function careSpanRule(name: string, atLeastDays: number, ctx: RuleContext): RuleResult {
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
    return found_(evidence, sources, ctx, detail);
  }
  // Not long enough: report what was found as detail, but it is not evidence that the rule holds.
  const unreadable = sources.filter((s) => ctx.index.failure(s) !== undefined);
  return { value: unreadable.length > 0 ? 'unknown' : 'false', evidence, unreadable, detail };
}

function studyDefinition(ctx: RuleContext, name: string): StudyDefinition {
  const def = ctx.policy.studies[name];
  if (!def) {
    throw new Error(`policy names unknown study definition '${name}'`);
  }
  return def;
}

function studyModalities(s: ImagingStudy): Coding[] {
  const study = Array.isArray(s.modality) ? s.modality : [];
  const series = (Array.isArray(s.series) ? s.series : []).flatMap((x) => (x?.modality ? [x.modality] : []));
  return [...study, ...series];
}

/** Whether a study is of the definition (SPEC §4.2): an allowed modality and a lumbar site or procedure. */
function isStudyOf(s: ImagingStudy, def: StudyDefinition, ctx: RuleContext, modalities?: string): boolean {
  const mods = studyModalities(s);
  if (!mods.some((m) => ctx.valueSets.codingIn(def.modalities, m))) {
    return false;
  }
  if (modalities !== undefined && !mods.some((m) => ctx.valueSets.codingIn(modalities, m))) {
    return false;
  }
  const sites = (Array.isArray(s.series) ? s.series : []).some((x) => ctx.valueSets.codingIn(def.bodySites, x?.bodySite));
  const procedures = (Array.isArray(s.procedureCode) ? s.procedureCode : []).some((c) => ctx.valueSets.conceptIn(def.procedureCodes, c));
  return sites || procedures;
}

function selectStudies(sel: StudySelection, ctx: RuleContext): Dated<ImagingStudy>[] {
  const def = studyDefinition(ctx, sel.study);
  const since =
    sel.withinDays !== undefined
      ? ctx.now - sel.withinDays * DAY_MS
      : sel.withinMonths !== undefined
        ? minusCalendarMonths(ctx.now, sel.withinMonths)
        : undefined;
  return ctx.index.imagingStudies.filter(
    (d) => isStudyOf(d.resource, def, ctx, sel.modalities) && (since === undefined || (d.date !== undefined && onOrAfter(d.date, since))),
  );
}

function studyEvidence(d: Dated<ImagingStudy>, ctx: RuleContext): Evidence {
  const s = d.resource;
  const proc = (Array.isArray(s.procedureCode) ? s.procedureCode : [])[0];
  const modality = studyModalities(s)
    .map((m) => m?.code)
    .filter((c): c is string => typeof c === 'string');
  const what =
    (typeof s.description === 'string' && s.description) ||
    (proc && (proc.text ?? proc.coding?.[0]?.display)) ||
    `${[...new Set(modality)].join('/')} study of the lumbar spine`;
  return { reference: d.reference, what, ...(d.date ? { date: isoDay(d.date.start) } : {}) };
}

/** The most recent study of a definition (SPEC §4.2 "the most recent lumbar study"), memoised per context. */
const latestCache = new WeakMap<RuleContext, Map<string, Dated<ImagingStudy> | null>>();

function latestStudy(anchor: LatestStudy, ctx: RuleContext): Dated<ImagingStudy> | undefined {
  let cache = latestCache.get(ctx);
  if (!cache) {
    cache = new Map();
    latestCache.set(ctx, cache);
  }
  if (!cache.has(anchor.latest)) {
    const studies = selectStudies({ study: anchor.latest }, ctx).filter((d) => d.date !== undefined);
    const latest = studies.reduce<Dated<ImagingStudy> | undefined>(
      (best, d) => (!best || (d.date && best.date && d.date.start > best.date.start) ? d : best),
      undefined,
    );
    cache.set(anchor.latest, latest ?? null);
  }
  return cache.get(anchor.latest) ?? undefined;
}

/**
 * A search anchored on the most recent study. When studies could not be read the anchor itself is
 * uncertain, so nothing found after it can be trusted either way: the result is unknown.
 */
function afterLatest(
  anchor: LatestStudy,
  ctx: RuleContext,
  sources: readonly SourceType[],
  select: (anchorDate: FhirDate) => readonly (Evidence | CareRecord)[],
): RuleResult {
  if (ctx.index.failure('ImagingStudy') !== undefined) {
    return { value: 'unknown', evidence: [], unreadable: ['ImagingStudy', ...sources.filter((s) => ctx.index.failure(s) !== undefined)] };
  }
  const study = latestStudy(anchor, ctx);
  if (!study?.date) {
    return found_([], sources, ctx);
  }
  const found = select(study.date).map((x) => ('start' in x ? careEvidence(x) : x));
  return found_(found, sources, ctx);
}

function serviceRequestRule(rule: Extract<EvidenceRule, { kind: 'service-request' }>, ctx: RuleContext): RuleResult {
  const byRef = new Map<string, ServiceRequest>();
  for (const sr of ctx.index.serviceRequests) {
    byRef.set(referenceOf(sr), sr);
  }
  if (rule.includeDraftOrders) {
    // The draft in the hook context is newer than any stored copy of the same order.
    for (const sr of ctx.draftOrders) {
      byRef.set(referenceOf(sr), sr);
    }
  }
  const found: Evidence[] = [];
  for (const sr of byRef.values()) {
    if (!rule.statuses.includes(statusOf(sr) ?? '')) {
      continue;
    }
    const coding = rule.codes !== undefined ? ctx.valueSets.conceptIn(rule.codes, sr.code) : undefined;
    const performer = rule.performerTypes !== undefined ? ctx.valueSets.conceptIn(rule.performerTypes, sr.performerType) : undefined;
    const hit = coding ?? performer;
    if (hit) {
      found.push(codedEvidence(referenceOf(sr), hit, coding ? sr.code : sr.performerType, parseFhirDate(sr.authoredOn), ctx));
    }
  }
  return found_(found, ['ServiceRequest'], ctx);
}

function reportConclusionRule(rule: Extract<EvidenceRule, { kind: 'report-conclusion' }>, ctx: RuleContext): RuleResult {
  const matching = ctx.index.reports.flatMap((d) => {
    const codes = Array.isArray(d.resource.conclusionCode) ? d.resource.conclusionCode : [];
    for (const concept of codes) {
      const coding = ctx.valueSets.conceptIn(rule.codes, concept);
      if (coding) {
        return [{ d, coding, concept }];
      }
    }
    return [];
  });
  const evidence = (m: (typeof matching)[number]): Evidence => evidenceOf(m.d, m.coding, m.concept, ctx);
  if (rule.after) {
    return afterLatest(rule.after, ctx, ['DiagnosticReport'], (anchor) =>
      matching.filter((m) => m.d.date && compareDates(m.d.date, anchor) > 0).map(evidence),
    );
  }
  if (rule.about) {
    const studies = selectStudies(rule.about, ctx);
    const hits = matching.filter((m) => {
      const refs = (Array.isArray(m.d.resource.imagingStudy) ? m.d.resource.imagingStudy : []).map((r) => (typeof r?.reference === 'string' ? r.reference : ''));
      return studies.some(
        (s) =>
          refs.some((r) => r === s.reference || r.endsWith(`/${s.reference}`)) ||
          (m.d.date !== undefined && s.date !== undefined && compareDates(m.d.date, s.date) >= 0),
      );
    });
    const found = hits.length > 0 ? [...hits.map(evidence), ...studies.map((s) => studyEvidence(s, ctx))] : [];
    return found_(found, ['DiagnosticReport', 'ImagingStudy'], ctx);
  }
  return found_(matching.map(evidence), ['DiagnosticReport'], ctx);
}
