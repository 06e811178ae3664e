/**
 * Evidence rules: the generic clinical primitives a fact's evidence is written in (policy data), each
 * evaluated three-valued with the references it found. Pure and synchronous. The rule families live in
 * src/facts/rules/, one file each; this module only dispatches on the rule's kind.
 */
import { kleeneAll, kleeneAny } from '../engine/truth.js';
import type { EvidenceRule } from '../policy/policy-types.js';
import { careRecordRule, careSpanRule } from './rules/care.js';
import { conditionRule } from './rules/conditions.js';
import { observationQuantityRule, observationValueRule, weightDropRule } from './rules/observations.js';
import { orderCodeRule, orderReasonRule, procedureRule, serviceRequestRule } from './rules/orders.js';
import { ageRule } from './rules/patient.js';
import { noteRule } from './rules/notes.js';
import { reportConclusionRule } from './rules/reports.js';
import { combine, type RuleContext, type RuleResult } from './rules/rule-result.js';
import { imagingRule } from './rules/studies.js';

export { NOTHING, type Evidence, type FactInput, type NoteCitation, type RuleContext, type RuleResult } from './rules/rule-result.js';

/**
 * Evaluates an evidence rule against the record.
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
    case 'observation-value':
      return observationValueRule(rule, ctx);
    case 'weight-drop':
      return weightDropRule(rule, ctx);
    case 'age':
      return ageRule(rule, ctx);
    case 'order-code':
      return orderCodeRule(rule, ctx);
    case 'order-reason':
      return orderReasonRule(rule, ctx);
    case 'care-span':
      return careSpanRule(rule.care, rule.atLeastDays, ctx);
    case 'care-record':
      return careRecordRule(rule, ctx);
    case 'procedure':
      return procedureRule(rule, ctx);
    case 'service-request':
      return serviceRequestRule(rule, ctx);
    case 'imaging':
      return imagingRule(rule, ctx);
    case 'report-conclusion':
      return reportConclusionRule(rule, ctx);
    case 'note':
      return noteRule(rule, ctx);
  }
}
