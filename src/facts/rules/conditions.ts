/** Evidence rules over Conditions (SPEC §2 Condition status, §3 red-flag rows, §4 facts). */
import type { Condition } from 'fhir/r4.js';
import { compareDates, type FhirDate } from '../fhir-dates.js';
import { conceptCodes, isActiveCondition, type Dated } from '../record-index.js';
import { closedWorld, evidenceOf, withinDays, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';
import { afterLatest } from './studies.js';

type ConditionRule = RuleOf<'condition'>;

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

/** SPEC §2–§4 Conditions: coded, with clinical and verification status, inside a window or after the latest study. */
export function conditionRule(rule: ConditionRule, ctx: RuleContext): RuleResult {
  return rule.after
    ? afterLatest(rule.after, ctx, ['Condition'], (anchor) => conditionsMatching(rule, ctx, anchor))
    : closedWorld(conditionsMatching(rule, ctx), ['Condition'], ctx);
}
