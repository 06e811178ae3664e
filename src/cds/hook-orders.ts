import type { Appointment, Reference, ServiceRequest } from 'fhir/r4.js';
import { refersToPatient } from '../fhir/data-source.js';
import { isObject, type FhirSession, type ReadOutcome } from '../fhir/fhir-session.js';
import type { SourceFailure } from '../fhir/patient-record.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import type { ContextBundle, HookRequest } from './hook-request.js';
import { draftServiceRequests, inScopeOrders, isInScope } from './scope.js';

/** An order the hook call is about, and the context resource it came through (an Appointment). */
export interface OrderInScope {
  readonly order: ServiceRequest;
  /** "Appointment/x" when the order was reached through an appointment's basedOn. */
  readonly via?: string;
}

/** An order named by reference that could not be read (not a 404: that order does not exist), and why. */
export interface UnreadOrder {
  readonly reference: string;
  readonly failure: SourceFailure;
}

/** The orders of one hook call: the in-scope ones to decide, and every order the call carries (SPEC §4). */
export interface HookOrders {
  readonly inScope: readonly OrderInScope[];
  /** Every order of the request: a planned injection among them is evidence of surgery considered. */
  readonly all: readonly ServiceRequest[];
  /** Orders an appointment or a dispatch names that could not be read: nothing is known of them. */
  readonly unread: readonly UnreadOrder[];
}

function resourcesOf(bundle: ContextBundle | undefined): unknown[] {
  return (bundle?.entry ?? []).map((e) => e.resource);
}

/** "ServiceRequest/x" of a reference to a ServiceRequest (relative, absolute URL, or versioned), else undefined. */
export function serviceRequestReference(reference: unknown): string | undefined {
  if (typeof reference !== 'string') {
    return undefined;
  }
  const m = /(?:^|\/)(ServiceRequest\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/.exec(reference.trim());
  return m?.[1];
}

/**
 * Every ServiceRequest among what the client sent (prefetch values, whatever their key, since a client may rename
 * it; the appointments Bundle), by "ServiceRequest/id".
 */
function sentServiceRequests(values: readonly unknown[]): Map<string, ServiceRequest> {
  const found = new Map<string, ServiceRequest>();
  const keep = (r: unknown): void => {
    if (isObject(r) && r.resourceType === 'ServiceRequest' && typeof r.id === 'string') {
      found.set(`ServiceRequest/${r.id}`, r as unknown as ServiceRequest);
    }
  };
  for (const value of values) {
    if (isObject(value) && value.resourceType === 'Bundle' && Array.isArray(value.entry)) {
      for (const e of value.entry as unknown[]) {
        keep(isObject(e) ? e.resource : undefined);
      }
    } else {
      keep(value);
    }
  }
  return found;
}

/**
 * Reads the ServiceRequests named by reference: from the appointment's contained resources, from prefetch (or the
 * appointments Bundle), else
 * from the FHIR server through the call's session (one deadline for every read of the call). An order that cannot
 * be read, or that is another patient's, is left out: nothing is known of it, so it is not evaluated.
 */
async function resolveOrders(
  wanted: readonly { readonly reference: string; readonly via?: string; readonly contained?: readonly unknown[] }[],
  request: HookRequest,
  session: FhirSession,
): Promise<{ orders: OrderInScope[]; unread: UnreadOrder[] }> {
  // A client may put the ServiceRequest in the appointments Bundle beside its Appointment: it counts as prefetched.
  const prefetched = sentServiceRequests([...Object.values(request.prefetch ?? {}), request.context.appointments]);
  const toRead = new Set<string>();
  const local = new Map<string, ServiceRequest>();
  for (const w of wanted) {
    if (w.reference.startsWith('#')) {
      const c = (w.contained ?? []).find((r) => isObject(r) && r.resourceType === 'ServiceRequest' && `#${String(r.id)}` === w.reference);
      if (c) {
        local.set(`${w.via ?? ''}${w.reference}`, c as ServiceRequest);
      }
      continue;
    }
    const key = serviceRequestReference(w.reference);
    if (key !== undefined && !prefetched.has(key)) {
      toRead.add(key);
    }
  }
  const read: Map<string, ReadOutcome> = toRead.size > 0 ? await session.readAll(toRead) : new Map();
  const out: OrderInScope[] = [];
  const unread: UnreadOrder[] = [];
  for (const [reference, outcome] of read) {
    if ('failure' in outcome && outcome.failure !== 'not-found') {
      unread.push({ reference, failure: outcome.failure });
    }
  }
  const seen = new Set<string>();
  for (const w of wanted) {
    const key = w.reference.startsWith('#') ? `${w.via ?? ''}${w.reference}` : serviceRequestReference(w.reference);
    if (key === undefined || seen.has(key)) {
      continue;
    }
    const outcome = read.get(key);
    const resource = local.get(key) ?? prefetched.get(key) ?? (outcome !== undefined && 'resource' in outcome ? outcome.resource : undefined);
    if (!isObject(resource) || resource.resourceType !== 'ServiceRequest') {
      continue;
    }
    const order = resource as unknown as ServiceRequest;
    // Issue #3: another patient's resource is never counted.
    if (order.subject?.reference !== undefined && !refersToPatient(order.subject.reference, request.context.patientId)) {
      continue;
    }
    seen.add(key);
    out.push({ order, ...(w.via !== undefined ? { via: w.via } : {}) });
  }
  return { orders: out, unread };
}

/**
 * The orders a hook call is about (SPEC §1, CRD hooks.md): order-sign every draft order, order-select the selected
 * ones, appointment-book the ServiceRequests the proposed Appointments are based on (CRD cards.md FHIR-50318: the
 * coverage-information then goes on the ServiceRequest), order-dispatch the dispatched orders. Only ServiceRequests
 * in the policy's scope are decided; other order types and unrelated appointments get nothing.
 * @param request - the validated hook request
 * @param session - the call's FHIR session, for orders neither in the context nor in prefetch
 * @param loaded - the policy and its value sets
 */
export async function findOrders(request: HookRequest, session: FhirSession, loaded: LoadedPolicy): Promise<HookOrders> {
  const { policy, valueSets } = loaded;
  switch (request.hook) {
    case 'order-sign':
    case 'order-select': {
      const drafts = draftServiceRequests(request.context.draftOrders?.entry ?? []);
      const inScope = inScopeOrders(request.hook, drafts, request.context.selections, policy, valueSets);
      return { inScope: inScope.map((order) => ({ order })), all: drafts, unread: [] };
    }
    case 'appointment-book': {
      const wanted = resourcesOf(request.context.appointments)
        .filter((r): r is Appointment => isObject(r) && r.resourceType === 'Appointment')
        .flatMap((a) =>
          (Array.isArray(a.basedOn) ? a.basedOn : []).flatMap((b: Reference) =>
            typeof b.reference === 'string' && (b.reference.startsWith('#') || serviceRequestReference(b.reference) !== undefined)
              ? [{ reference: b.reference.trim(), via: `Appointment/${a.id ?? 'unidentified'}`, contained: a.contained ?? [] }]
              : [],
          ),
        );
      const { orders, unread } = await resolveOrders(wanted, request, session);
      return { inScope: orders.filter((o) => isInScope(o.order, policy, valueSets)), all: orders.map((o) => o.order), unread };
    }
    case 'order-dispatch': {
      const refs = request.context.dispatchedOrders ?? (request.context.order !== undefined ? [request.context.order] : []);
      // Other order types (MedicationRequest, DeviceRequest, …) are not this policy's: only ServiceRequests are read.
      const wanted = refs.filter((r) => serviceRequestReference(r) !== undefined).map((reference) => ({ reference }));
      const { orders, unread } = wanted.length > 0 ? await resolveOrders(wanted, request, session) : { orders: [], unread: [] };
      return { inScope: orders.filter((o) => isInScope(o.order, policy, valueSets)), all: orders.map((o) => o.order), unread };
    }
  }
}
