/** Evidence rules over DiagnosticReports: coded conclusions (SPEC §4 fact.ct-inconclusive, fact.indeterminate-prior-finding). */
import { compareDates } from '../fhir-dates.js';
import { closedWorld, evidenceOf, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';
import { afterLatest, selectStudies, studyEvidence } from './studies.js';

/** SPEC §4 report conclusions: coded conclusions after the latest study, or about a selected study. */
export function reportConclusionRule(rule: RuleOf<'report-conclusion'>, ctx: RuleContext): RuleResult {
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
    return closedWorld(found, ['DiagnosticReport', 'ImagingStudy'], ctx);
  }
  return closedWorld(matching.map(evidence), ['DiagnosticReport'], ctx);
}
