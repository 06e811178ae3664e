/** Evidence rules over the Patient resource. */
import { ageInYears, isoDay, parseFhirDate } from '../fhir-dates.js';
import { referenceOf } from '../record-index.js';
import { closedWorld, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';

/** SPEC §3 potential osteoporosis: age at least N years from Patient.birthDate. */
export function ageRule(rule: RuleOf<'age'>, ctx: RuleContext): RuleResult {
  const birth = parseFhirDate(ctx.index.patient?.birthDate);
  if (birth && ageInYears(birth, ctx.now) >= rule.atLeastYears) {
    const patient = ctx.index.patient;
    const reference = patient ? referenceOf(patient) : 'Patient';
    return closedWorld([{ reference, what: `age ${ageInYears(birth, ctx.now)} years`, date: isoDay(birth.start) }], ['Patient'], ctx);
  }
  return closedWorld([], ['Patient'], ctx);
}
