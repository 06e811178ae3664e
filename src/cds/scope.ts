import type { ServiceRequest } from 'fhir/r4.js';
import { referenceOf } from '../facts/record-index.js';
import type { ValueSets } from '../facts/value-sets.js';
import type { Policy } from '../policy/policy-types.js';

function isServiceRequest(x: unknown): x is ServiceRequest {
  return typeof x === 'object' && x !== null && (x as { resourceType?: unknown }).resourceType === 'ServiceRequest';
}

/** The ServiceRequests of a draftOrders Bundle; other resources get no card (SPEC §1). */
export function draftServiceRequests(entries: readonly { readonly resource?: unknown }[]): ServiceRequest[] {
  return entries.map((e) => e.resource).filter(isServiceRequest);
}

/**
 * Whether an order is evaluated (SPEC §1): a lumbar MRI code, or spectroscopy / MR angiography whose
 * bodySite is lumbar, so their non-indications can apply. Status and intent do not matter.
 * @param order - a draft ServiceRequest
 */
export function isInScope(order: ServiceRequest, policy: Policy, valueSets: ValueSets): boolean {
  if (valueSets.conceptIn(policy.scope.orderCodes, order.code)) {
    return true;
  }
  if (!valueSets.conceptIn(policy.scope.siteDependentOrderCodes, order.code)) {
    return false;
  }
  const sites = Array.isArray(order.bodySite) ? order.bodySite : [];
  return sites.some((s) => valueSets.conceptIn(policy.scope.siteDependentBodySites, s));
}

/** Whether a selection ("ServiceRequest/x", or an absolute URL ending so) names the order. */
function selects(selection: string, order: ServiceRequest): boolean {
  const ref = referenceOf(order);
  const s = selection.trim();
  return s === ref || s.endsWith(`/${ref}`);
}

/**
 * The in-scope orders of a hook call: on order-sign every draft order is considered, even when the
 * client also sends selections; on order-select only the selected ones (SPEC §1).
 * @param hook - 'order-sign' or 'order-select'
 * @param orders - the draft ServiceRequests
 * @param selections - context.selections
 */
export function inScopeOrders(
  hook: 'order-sign' | 'order-select',
  orders: readonly ServiceRequest[],
  selections: readonly string[] | undefined,
  policy: Policy,
  valueSets: ValueSets,
): ServiceRequest[] {
  const considered = hook === 'order-select' ? orders.filter((o) => (selections ?? []).some((s) => selects(s, o))) : orders;
  return considered.filter((o) => isInScope(o, policy, valueSets));
}
