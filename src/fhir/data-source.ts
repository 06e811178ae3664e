import type { Resource } from 'fhir/r4.js';
import { FhirRequestError } from './fhir-reader.js';
import { FhirSession, isObject, type FhirAccess, type SessionOptions } from './fhir-session.js';
import {
  SOURCE_TYPES,
  emptySources,
  type PatientRecord,
  type ResourceOf,
  type Source,
  type SourceFailure,
  type SourceType,
} from './patient-record.js';

/** One prefetch template of the service's discovery entry, with the resource type it returns. */
export interface PrefetchTemplate {
  readonly key: string;
  readonly type: SourceType;
  readonly query: string;
}

/** What the hook request offers for gathering data (CDS Hooks §Providing FHIR Resources). */
export interface GatherRequest extends FhirAccess {
  readonly patientId: string;
  /** Primitive context fields, for prefetch tokens. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly prefetch?: Readonly<Record<string, unknown>>;
}

export type GatherOptions = SessionOptions;

/**
 * A second wave of reads: given what the searches returned, the references still to read (a Coverage's payer
 * Organization, a prescription's Medication, a note's Binary). References already in the record — returned by
 * an `_include`, or contained — are not read again.
 */
export type FollowUp = (record: PatientRecord) => Iterable<string>;

/** The request can be answered from neither prefetch nor the FHIR server (CDS Hooks §Prefetch: 412). */
export class NoDataAccessError extends Error {
  override readonly name = 'NoDataAccessError';
}

/** Fills `{{context.x}}` and user tokens of a template (CDS Hooks §Prefetch tokens). */
export function fillTemplate(query: string, context: Readonly<Record<string, unknown>>): string {
  return query.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_m, token: string) => {
    if (token.startsWith('context.')) {
      const value = context[token.slice('context.'.length)];
      return typeof value === 'string' || typeof value === 'number' ? encodeURIComponent(String(value)) : '';
    }
    const userId = typeof context.userId === 'string' ? context.userId : '';
    const [type, id] = userId.split('/');
    const byToken: Record<string, string> = {
      userPractitionerId: type === 'Practitioner' ? (id ?? '') : '',
      userPractitionerRoleId: type === 'PractitionerRole' ? (id ?? '') : '',
      userPatientId: type === 'Patient' ? (id ?? '') : '',
      userRelatedPersonId: type === 'RelatedPerson' ? (id ?? '') : '',
    };
    return encodeURIComponent(byToken[token] ?? '');
  });
}

/** The resource type a template returns: the first path segment ("Condition?patient=…", "Patient/{{…}}"). */
export function templateType(query: string): SourceType | undefined {
  const type = query.split(/[/?]/)[0];
  return SOURCE_TYPES.find((t) => t === type);
}

/** Whether a reference points at the patient: "Patient/x", ".../Patient/x", "Patient/x/_history/2", "urn:uuid:x". */
export function refersToPatient(reference: unknown, patientId: string): boolean {
  if (typeof reference !== 'string') {
    return false;
  }
  // The common shapes are compared in place: building "Patient/<id>" to compare with would allocate a
  // string for every resource of every request.
  if (isPrefixedId(reference, 'Patient/', patientId)) {
    return true;
  }
  const ref = reference.trim();
  if (isPrefixedId(ref, 'urn:uuid:', patientId)) {
    return true;
  }
  const parts = ref.replace(/\/_history\/[^/]*$/, '').split('/');
  return parts.at(-1) === patientId && parts.at(-2) === 'Patient';
}

/** Whether `text` is exactly `prefix` followed by `id`. */
function isPrefixedId(text: string, prefix: string, id: string): boolean {
  return text.length === prefix.length + id.length && text.startsWith(prefix) && text.endsWith(id);
}

function patientReferenceOf(resource: Record<string, unknown>): unknown {
  const field = resource.resourceType === 'Coverage' ? resource.beneficiary : resource.subject;
  return isObject(field) ? field.reference : undefined;
}

/**
 * Keeps a resource only if it is of the expected type and, when it names a patient, names this one
 * (issue #3: resources of the wrong type or of another patient are ignored, never counted).
 */
function belongs<T extends SourceType>(resource: unknown, type: T, patientId: string): resource is ResourceOf[T] {
  if (!isObject(resource) || resource.resourceType !== type) {
    return false;
  }
  if (type === 'Patient') {
    return resource.id === patientId;
  }
  const ref = patientReferenceOf(resource);
  return ref === undefined || refersToPatient(ref, patientId);
}

function entriesOf(bundle: Record<string, unknown>): unknown[] {
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  return entries.map((e: unknown) => (isObject(e) ? e.resource : undefined));
}

function nextLink(bundle: Record<string, unknown>): string | undefined {
  const links = Array.isArray(bundle.link) ? bundle.link : [];
  const next = links.find((l: unknown) => isObject(l) && l.relation === 'next' && typeof l.url === 'string') as { url: string } | undefined;
  return next?.url;
}

interface Collected {
  resources: unknown[];
  /** Resources of other types the page carried (`_include`d payer Organizations, Medications). */
  related: Record<string, unknown>[];
  failure?: SourceFailure;
}

/** Reads searches and prefetch entries through the request's session. */
class Gatherer {
  constructor(private readonly session: FhirSession) {}

  /** Reads a search result or a single resource and follows `next` links on the FHIR server's origin. */
  async collect(first: unknown, type: SourceType): Promise<Collected> {
    const resources: unknown[] = [];
    const related: Record<string, unknown>[] = [];
    let page: unknown = first;
    const seen = new Set<string>();
    for (let pages = 1; ; pages++) {
      if (!isObject(page)) {
        return { resources, related, failure: 'malformed-response' };
      }
      if (page.resourceType === 'OperationOutcome') {
        return { resources, related, failure: 'prefetch-error' };
      }
      if (page.resourceType !== 'Bundle') {
        if (page.resourceType === type) {
          resources.push(page);
          return { resources, related };
        }
        return { resources, related, failure: 'malformed-response' };
      }
      for (const entry of entriesOf(page)) {
        // A search's own matches are of its type; anything else came along by `_include` (or is noise).
        if (isObject(entry) && entry.resourceType !== type && typeof entry.resourceType === 'string') {
          related.push(entry);
        } else {
          resources.push(entry);
        }
      }
      const next = nextLink(page);
      if (next === undefined) {
        return { resources, related };
      }
      if (!this.session.access.fhirServer) {
        return { resources, related, failure: 'not-provided' };
      }
      // The bearer token must never leave for another host (issue #3).
      if (!this.session.isSameOrigin(next)) {
        return { resources, related, failure: 'foreign-next-link' };
      }
      if (pages >= this.session.options.maxPages || seen.has(next)) {
        return { resources, related, failure: 'page-limit' };
      }
      seen.add(next);
      try {
        page = await this.session.get(next);
      } catch (error) {
        return { resources, related, failure: error instanceof FhirRequestError ? error.failure : 'network-error' };
      }
    }
  }

  async fromPrefetch(value: unknown, type: SourceType): Promise<Collected> {
    if (value === null) {
      // CDS Hooks §Prefetch: null means the client has no data for the template.
      return { resources: [], related: [] };
    }
    if (isObject(value) && value.resourceType === 'OperationOutcome') {
      return { resources: [], related: [], failure: 'prefetch-error' };
    }
    if (isObject(value) && value.resourceType !== 'Bundle' && value.resourceType !== type) {
      return { resources: [], related: [], failure: 'prefetch-error' };
    }
    return this.collect(value, type);
  }

  async fromServer(template: PrefetchTemplate, context: Readonly<Record<string, unknown>>): Promise<Collected> {
    try {
      const first = await this.session.get(fillTemplate(template.query, context));
      return await this.collect(first, template.type);
    } catch (error) {
      const failure = error instanceof FhirRequestError ? error.failure : 'network-error';
      return { resources: [], related: [], failure };
    }
  }
}

/**
 * Opens the FHIR session of one hook call: every read of the call (orders an appointment is based on, the
 * searches, follow-up reads) shares its token and deadline.
 * @param access - fhirServer and token from the request
 * @param options - reader, deadline, page limit
 */
export function openSession(access: FhirAccess, options: SessionOptions): FhirSession {
  return new FhirSession(access, options);
}

/**
 * Gathers the patient's record: a prefetch key that is present is used as given (null = no data, an
 * OperationOutcome = that query failed, a Bundle's `next` links are followed); every missing key is
 * queried on the FHIR server, all in parallel under one deadline. Then the follow-ups' references are read,
 * at most a few at a time, under the same deadline. Never throws for FHIR failures: each failure marks its
 * source (or reference) unreadable so the facts over it become unknown (SPEC §2).
 * @param templates - the service's prefetch templates
 * @param request - what the hook request offers
 * @param options - reader, deadline, page limit
 * @param more - an already open session (to share its deadline) and follow-up reads
 */
export async function gatherRecord(
  templates: readonly PrefetchTemplate[],
  request: GatherRequest,
  options: GatherOptions,
  more: { readonly session?: FhirSession; readonly followUps?: readonly FollowUp[] } = {},
): Promise<PatientRecord> {
  const prefetch = request.prefetch ?? {};
  const offered = templates.some((t) => Object.hasOwn(prefetch, t.key));
  if (!request.fhirServer && !offered) {
    throw new NoDataAccessError('neither prefetch nor fhirServer was provided');
  }
  const session = more.session ?? openSession(request, options);
  const gatherer = new Gatherer(session);
  const collected = await Promise.all(
    templates.map(async (t) => {
      let result: Collected;
      if (Object.hasOwn(prefetch, t.key)) {
        result = await gatherer.fromPrefetch(prefetch[t.key], t.type);
      } else if (request.fhirServer) {
        result = await gatherer.fromServer(t, request.context);
      } else {
        result = { resources: [], related: [], failure: 'not-provided' };
      }
      return { template: t, result };
    }),
  );
  const sources = emptySources();
  const related = new Map<string, Resource>();
  for (const { template, result } of collected) {
    merge(sources, template.type, result, request.patientId);
    for (const r of result.related) {
      keepRelated(related, r);
    }
  }
  const relatedFailures = new Map<string, SourceFailure>();
  const record: PatientRecord = { patientId: request.patientId, sources, related, relatedFailures, fhirRequests: 0 };
  const wanted = new Set<string>();
  for (const followUp of more.followUps ?? []) {
    for (const reference of followUp(record)) {
      if (!related.has(reference) && !reference.startsWith('#')) {
        wanted.add(reference);
      }
    }
  }
  if (wanted.size > 0) {
    for (const [reference, outcome] of await session.readAll(wanted)) {
      if ('resource' in outcome) {
        related.set(reference, outcome.resource as unknown as Resource);
      } else {
        relatedFailures.set(reference, outcome.failure);
      }
    }
  }
  return { ...record, fhirRequests: session.requests };
}

/** Keeps a resource another resource may refer to, under its "Type/id" reference. */
function keepRelated(related: Map<string, Resource>, resource: Record<string, unknown>): void {
  if (typeof resource.id === 'string' && resource.id !== '') {
    related.set(`${String(resource.resourceType)}/${resource.id}`, resource as unknown as Resource);
  }
}

function merge<T extends SourceType>(sources: { [K in SourceType]: Source<K> }, type: T, result: Collected, patientId: string): void {
  const current = sources[type] as Source<T>;
  // Two templates of one type (rare) are merged without counting a resource twice.
  const seen = current.resources.length > 0 ? new Set(current.resources.map((r) => (r as Resource).id)) : undefined;
  const added = result.resources.filter((r): r is ResourceOf[T] => belongs(r, type, patientId) && !seen?.has((r as Resource).id));
  const failure = current.failure ?? result.failure;
  (sources as Record<SourceType, Source<SourceType>>)[type] = {
    type,
    resources: current.resources.length > 0 ? [...current.resources, ...added] : added,
    ...(failure !== undefined ? { failure } : {}),
  } as Source<SourceType>;
}
