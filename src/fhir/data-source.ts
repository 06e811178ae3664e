import type { Resource } from 'fhir/r4.js';
import { FhirRequestError, type FhirReaderFactory, type FhirReader } from './fhir-reader.js';
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
export interface GatherRequest {
  readonly patientId: string;
  /** Primitive context fields, for prefetch tokens. */
  readonly context: Readonly<Record<string, unknown>>;
  readonly prefetch?: Readonly<Record<string, unknown>>;
  readonly fhirServer?: string;
  readonly accessToken?: string;
}

export interface GatherOptions {
  readonly readerFactory: FhirReaderFactory;
  /** One deadline for all FHIR queries of the request (issue #3). */
  readonly deadlineMs: number;
  /** Pages followed per query at most; past it the source is incomplete. */
  readonly maxPages: number;
}

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

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
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

function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url, base).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

interface Collected {
  resources: unknown[];
  failure?: SourceFailure;
}

class Gatherer {
  requests = 0;
  private reader: FhirReader | undefined;
  private deadline: AbortSignal | undefined;

  constructor(
    private readonly request: GatherRequest,
    private readonly options: GatherOptions,
  ) {}

  /** The request's one deadline, started by its first FHIR query (a fully prefetched call needs none). */
  private get signal(): AbortSignal {
    this.deadline ??= AbortSignal.timeout(this.options.deadlineMs);
    return this.deadline;
  }

  /** One GET with one retry on a 5xx or network error, both within the deadline. */
  private async get(url: string): Promise<unknown> {
    if (!this.request.fhirServer) {
      throw new FhirRequestError('not-provided');
    }
    this.reader ??= this.options.readerFactory(this.request.fhirServer, this.request.accessToken);
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      try {
        return await this.reader.get(url, this.signal);
      } catch (error) {
        const e = error instanceof FhirRequestError ? error : new FhirRequestError(this.signal.aborted ? 'timeout' : 'network-error');
        if (attempt > 0 || !e.retryable || this.signal.aborted) {
          throw e;
        }
      }
    }
  }

  /** Reads a search result or a single resource and follows `next` links on the FHIR server's origin. */
  async collect(first: unknown, type: SourceType): Promise<Collected> {
    const resources: unknown[] = [];
    let page: unknown = first;
    const seen = new Set<string>();
    for (let pages = 1; ; pages++) {
      if (!isObject(page)) {
        return { resources, failure: 'malformed-response' };
      }
      if (page.resourceType === 'OperationOutcome') {
        return { resources, failure: 'prefetch-error' };
      }
      if (page.resourceType !== 'Bundle') {
        if (page.resourceType === type) {
          resources.push(page);
          return { resources };
        }
        return { resources, failure: 'malformed-response' };
      }
      resources.push(...entriesOf(page));
      const next = nextLink(page);
      if (next === undefined) {
        return { resources };
      }
      const server = this.request.fhirServer;
      if (!server) {
        return { resources, failure: 'not-provided' };
      }
      // The bearer token must never leave for another host (issue #3).
      if (!sameOrigin(next, server)) {
        return { resources, failure: 'foreign-next-link' };
      }
      if (pages >= this.options.maxPages || seen.has(next)) {
        return { resources, failure: 'page-limit' };
      }
      seen.add(next);
      try {
        page = await this.get(next);
      } catch (error) {
        return { resources, failure: error instanceof FhirRequestError ? error.failure : 'network-error' };
      }
    }
  }

  async fromPrefetch(value: unknown, type: SourceType): Promise<Collected> {
    if (value === null) {
      // CDS Hooks §Prefetch: null means the client has no data for the template.
      return { resources: [] };
    }
    if (isObject(value) && value.resourceType === 'OperationOutcome') {
      return { resources: [], failure: 'prefetch-error' };
    }
    if (isObject(value) && value.resourceType !== 'Bundle' && value.resourceType !== type) {
      return { resources: [], failure: 'prefetch-error' };
    }
    return this.collect(value, type);
  }

  async fromServer(template: PrefetchTemplate): Promise<Collected> {
    try {
      const first = await this.get(fillTemplate(template.query, this.request.context));
      return await this.collect(first, template.type);
    } catch (error) {
      const failure = error instanceof FhirRequestError ? error.failure : 'network-error';
      // A Patient read that finds nothing is an answer, not a failure of the search.
      return { resources: [], failure };
    }
  }
}

/**
 * Gathers the patient's record: a prefetch key that is present is used as given (null = no data, an
 * OperationOutcome = that query failed, a Bundle's `next` links are followed); every missing key is
 * queried on the FHIR server, all in parallel under one deadline. Never throws for FHIR failures: each
 * failure marks its source unreadable so the facts over it become unknown (SPEC §2).
 * @param templates - the service's prefetch templates
 * @param request - what the hook request offers
 * @param options - reader, deadline, page limit
 */
export async function gatherRecord(templates: readonly PrefetchTemplate[], request: GatherRequest, options: GatherOptions): Promise<PatientRecord> {
  const prefetch = request.prefetch ?? {};
  const offered = templates.some((t) => Object.hasOwn(prefetch, t.key));
  if (!request.fhirServer && !offered) {
    throw new NoDataAccessError('neither prefetch nor fhirServer was provided');
  }
  const gatherer = new Gatherer(request, options);
  const collected = await Promise.all(
    templates.map(async (t) => {
      let result: Collected;
      if (Object.hasOwn(prefetch, t.key)) {
        result = await gatherer.fromPrefetch(prefetch[t.key], t.type);
      } else if (request.fhirServer) {
        result = await gatherer.fromServer(t);
      } else {
        result = { resources: [], failure: 'not-provided' };
      }
      return { template: t, result };
    }),
  );
  const sources = emptySources();
  for (const { template, result } of collected) {
    merge(sources, template.type, result, request.patientId);
  }
  return { patientId: request.patientId, sources, fhirRequests: gatherer.requests };
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
