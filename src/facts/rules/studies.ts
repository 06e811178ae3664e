/** Lumbar advanced imaging (SPEC §4.2): which studies count, the most recent one, and searches anchored on it. */
import type { Coding, ImagingStudy } from 'fhir/r4.js';
import type { SourceType } from '../../fhir/patient-record.js';
import type { LatestStudy, StudyDefinition, StudySelection } from '../../policy/policy-types.js';
import { DAY_MS, isoDay, minusCalendarMonths, onOrAfter, type FhirDate } from '../fhir-dates.js';
import type { Dated } from '../record-index.js';
import { closedWorld, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';

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

export function selectStudies(sel: StudySelection, ctx: RuleContext): Dated<ImagingStudy>[] {
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

export function studyEvidence(d: Dated<ImagingStudy>, ctx: RuleContext): Evidence {
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

export function latestStudy(anchor: LatestStudy, ctx: RuleContext): Dated<ImagingStudy> | undefined {
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
export function afterLatest(
  anchor: LatestStudy,
  ctx: RuleContext,
  sources: readonly SourceType[],
  select: (anchorDate: FhirDate) => readonly Evidence[],
): RuleResult {
  if (ctx.index.failure('ImagingStudy') !== undefined) {
    return { value: 'unknown', evidence: [], unreadable: ['ImagingStudy', ...sources.filter((s) => ctx.index.failure(s) !== undefined)] };
  }
  const study = latestStudy(anchor, ctx);
  if (!study?.date) {
    return closedWorld([], sources, ctx);
  }
  return closedWorld(select(study.date), sources, ctx);
}


/** SPEC §4 fact.prior-ct, fact.recent-advanced-imaging: lumbar studies of a modality inside a window. */
export function imagingRule(rule: RuleOf<'imaging'>, ctx: RuleContext): RuleResult {
  const studies = selectStudies(rule, ctx);
  return closedWorld(studies.map((s) => studyEvidence(s, ctx)), ['ImagingStudy'], ctx);
}
