import { randomUUID } from 'node:crypto';
import type { Resource, ServiceRequest } from 'fhir/r4.js';

/** A discovery entry as the EHR reads it. */
export interface DiscoveredService {
  readonly id: string;
  readonly hook: string;
  readonly prefetch?: Readonly<Record<string, string>>;
}

/**
 * Fills prefetch the way an EHR does: replace the tokens, run each query on its own FHIR server, and pass
 * the first page of each answer as it came (a `next` link included); a failed query is left out.
 */
export async function fulfilPrefetch(
  templates: Readonly<Record<string, string>>,
  context: { readonly patientId: string; readonly userId: string },
  fhirBase: string,
  token: string | undefined,
): Promise<Record<string, unknown>> {
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(templates)) {
    const query = template.replace(/\{\{\s*context\.(\w+)\s*\}\}/g, (_m, name: string) =>
      encodeURIComponent(String((context as Record<string, string>)[name] ?? '')),
    );
    const res = await fetch(`${fhirBase}/${query}`, { headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    if (res.ok) {
      prefetch[key] = (await res.json()) as unknown;
    } else if (res.status === 404) {
      prefetch[key] = null;
    }
  }
  return prefetch;
}

export interface HookCall {
  readonly hook: 'order-sign' | 'order-select';
  readonly patientId: string;
  readonly draftOrders: readonly Resource[];
  readonly selections?: readonly string[];
  readonly fhirServer?: string;
  readonly token?: string;
  readonly prefetch?: Record<string, unknown>;
  /** CDS Hooks request extensions (davinci-crd.configuration). */
  readonly extension?: Record<string, unknown>;
}

/** An appointment-book call: the proposed Appointments (CDS Hooks appointment-book, CRD hooks.md). */
export interface AppointmentCall extends Omit<HookCall, 'hook' | 'draftOrders' | 'selections'> {
  readonly hook: 'appointment-book';
  readonly appointments: readonly Resource[];
}

/** An order-dispatch call: the dispatched orders by reference, and the performer. */
export interface DispatchCall extends Omit<HookCall, 'hook' | 'draftOrders' | 'selections'> {
  readonly hook: 'order-dispatch';
  readonly dispatchedOrders: readonly string[];
  readonly performer: string;
}

/** The JSON body of a CDS Hooks call for order-sign, order-select, appointment-book or order-dispatch. */
export function hookRequest(call: HookCall | AppointmentCall | DispatchCall): Record<string, unknown> {
  if (call.hook === 'appointment-book' || call.hook === 'order-dispatch') {
    const context =
      call.hook === 'appointment-book'
        ? { userId: 'Practitioner/ordering-physician', patientId: call.patientId, appointments: { resourceType: 'Bundle', type: 'collection', entry: call.appointments.map((resource) => ({ resource })) } }
        : { patientId: call.patientId, dispatchedOrders: call.dispatchedOrders, performer: call.performer };
    return {
      hookInstance: randomUUID(),
      hook: call.hook,
      ...(call.fhirServer ? { fhirServer: call.fhirServer } : {}),
      ...(call.token !== undefined ? { fhirAuthorization: { access_token: call.token, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'necessity' } } : {}),
      context,
      ...(call.prefetch ? { prefetch: call.prefetch } : {}),
      ...(call.extension ? { extension: call.extension } : {}),
    };
  }
  const first = call.draftOrders[0] as ServiceRequest | undefined;
  const selections = call.selections ?? (call.hook === 'order-select' && first?.id ? [`ServiceRequest/${first.id}`] : undefined);
  return {
    hookInstance: randomUUID(),
    hook: call.hook,
    ...(call.fhirServer ? { fhirServer: call.fhirServer } : {}),
    ...(call.token !== undefined
      ? { fhirAuthorization: { access_token: call.token, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'necessity' } }
      : {}),
    context: {
      userId: 'Practitioner/ordering-physician',
      patientId: call.patientId,
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: call.draftOrders.map((resource) => ({ resource })) },
      ...(selections ? { selections } : {}),
    },
    ...(call.prefetch ? { prefetch: call.prefetch } : {}),
    ...(call.extension ? { extension: call.extension } : {}),
  };
}
