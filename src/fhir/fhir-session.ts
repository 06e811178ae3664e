import { FhirRequestError, type FhirReader, type FhirReaderFactory } from './fhir-reader.js';
import type { SourceFailure } from './patient-record.js';

/** Where the request lets the service read FHIR (CDS Hooks §Providing FHIR Resources). */
export interface FhirAccess {
  readonly fhirServer?: string;
  readonly accessToken?: string;
}

export interface SessionOptions {
  readonly readerFactory: FhirReaderFactory;
  /** One deadline for every FHIR request of a hook call (issue #3). */
  readonly deadlineMs: number;
  /** Pages followed per search at most; past it the search counts as incompletely read. */
  readonly maxPages: number;
  /** Reads by reference run at most this many at a time (Binary texts, Organizations, Medications). */
  readonly readConcurrency?: number;
}

/** A read by reference: the resource, or why it could not be had. */
export type ReadOutcome = { readonly resource: Record<string, unknown> } | { readonly failure: SourceFailure };

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url, base).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/**
 * Every FHIR request of one hook call goes through one session: one bearer token, one deadline (started by
 * the first request, so a fully prefetched call needs none), one count of requests, and one rule that the
 * token never leaves for another host. Searches, their `next` pages and reads by reference all share it.
 */
export class FhirSession {
  requests = 0;
  private reader: FhirReader | undefined;
  private deadline: AbortSignal | undefined;

  constructor(
    readonly access: FhirAccess,
    readonly options: SessionOptions,
  ) {}

  private get signal(): AbortSignal {
    this.deadline ??= AbortSignal.timeout(this.options.deadlineMs);
    return this.deadline;
  }

  /**
   * One GET with one retry on a 5xx or network error, both within the deadline.
   * @param url - relative to the FHIR server, or an absolute URL under it
   */
  async get(url: string): Promise<unknown> {
    if (!this.access.fhirServer) {
      throw new FhirRequestError('not-provided');
    }
    this.reader ??= this.options.readerFactory(this.access.fhirServer, this.access.accessToken);
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

  /**
   * Whether a URL may be fetched with the EHR's token: a relative reference ("Binary/1"), or an absolute URL on
   * the FHIR server's origin under its base path. Anything else is another host, and is never fetched.
   * @param url - a reference or URL from a resource
   */
  isOnServer(url: string): boolean {
    const server = this.access.fhirServer;
    if (!server) {
      return false;
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      // Relative: resolved against the server base by the reader. A protocol-relative "//host" is not relative.
      return !url.startsWith('//');
    }
    if (!sameOrigin(url, server)) {
      return false;
    }
    const base = new URL(server).pathname.replace(/\/+$/, '');
    return new URL(url).pathname.startsWith(`${base}/`);
  }

  /** Whether a `next` link may be followed: same origin as the FHIR server (issue #3). */
  isSameOrigin(url: string): boolean {
    return this.access.fhirServer !== undefined && sameOrigin(url, this.access.fhirServer);
  }

  /**
   * Reads one resource by reference ("Organization/1") or by an absolute URL under the FHIR server. Never throws:
   * a URL elsewhere is 'other-host', and every failure is classified.
   * @param reference - the reference or URL
   */
  async read(reference: string): Promise<ReadOutcome> {
    if (!this.access.fhirServer) {
      return { failure: 'not-provided' };
    }
    if (!this.isOnServer(reference)) {
      return { failure: 'other-host' };
    }
    try {
      const body = await this.get(reference);
      return isObject(body) && typeof body.resourceType === 'string' ? { resource: body } : { failure: 'malformed-response' };
    } catch (error) {
      return { failure: error instanceof FhirRequestError ? error.failure : 'network-error' };
    }
  }

  /**
   * Reads several references, at most `readConcurrency` at a time, each once.
   * @param references - references or URLs under the server
   */
  async readAll(references: Iterable<string>): Promise<Map<string, ReadOutcome>> {
    const pending = [...new Set(references)];
    const outcomes = new Map<string, ReadOutcome>();
    const workers = Math.max(1, Math.min(this.options.readConcurrency ?? 8, pending.length));
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < pending.length) {
          const reference = pending[next++] as string;
          outcomes.set(reference, await this.read(reference));
        }
      }),
    );
    return outcomes;
  }
}
