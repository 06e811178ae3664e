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
}

/** The JSON body of a CDS Hooks call for order-sign or order-select. */
export function hookRequest(call: HookCall): Record<string, unknown> {
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
  };
}
