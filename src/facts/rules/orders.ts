/** Evidence rules over orders and procedures: the order itself, other orders and referrals, interventions. */
import type { ServiceRequest } from 'fhir/r4.js';
import { compareDates, parseFhirDate, type FhirDate } from '../fhir-dates.js';
import { referenceOf, statusOf } from '../record-index.js';
import { procedureStart } from './care.js';
import { closedWorld, codedEvidence, orderEvidence, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';
import { afterLatest } from './studies.js';

/** SPEC §4 fact.purpose-*: the order's own code. */
export function orderCodeRule(rule: RuleOf<'order-code'>, ctx: RuleContext): RuleResult {
  const coding = ctx.valueSets.conceptIn(rule.codes, ctx.order.code);
  return closedWorld(coding ? [orderEvidence(ctx, coding, ctx.order.code)] : [], [], ctx);
}

/** SPEC §4 fact.back-symptoms: a reason the order gives. */
export function orderReasonRule(rule: RuleOf<'order-reason'>, ctx: RuleContext): RuleResult {
  const reasons = Array.isArray(ctx.order.reasonCode) ? ctx.order.reasonCode : [];
  const found = reasons.flatMap((reason) => {
    const coding = ctx.valueSets.conceptIn(rule.codes, reason);
    return coding ? [orderEvidence(ctx, coding, reason)] : [];
  });
  return closedWorld(found, [], ctx);
}

/** SPEC §4 spinal interventions: Procedures of the given codes and statuses, optionally after the latest study. */
export function procedureRule(rule: RuleOf<'procedure'>, ctx: RuleContext): RuleResult {
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
  return rule.after ? afterLatest(rule.after, ctx, ['Procedure'], select) : closedWorld(select(), ['Procedure'], ctx);
}

/** SPEC §4 fact.surgery-considered: an order (stored or in this request) for an intervention or a referral. */
export function serviceRequestRule(rule: RuleOf<'service-request'>, ctx: RuleContext): RuleResult {
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
  return closedWorld(found, ['ServiceRequest'], ctx);
}
