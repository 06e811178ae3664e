import { Client } from 'fhir-kit-client';
import type { SourceFailure } from './patient-record.js';

/** A FHIR GET that failed, classified without any response body (which may hold PHI). */
export class FhirRequestError extends Error {
  override readonly name = 'FhirRequestError';
  /**
   * @param failure - the classified failure
   * @param status - HTTP status when there was one
   */
  constructor(
    readonly failure: SourceFailure,
    readonly status?: number,
  ) {
    super(status !== undefined ? `FHIR request failed: ${failure} (HTTP ${status})` : `FHIR request failed: ${failure}`);
  }

  /** Worth one more try: the server or the network may recover (issue #3: one retry on 5xx or network). */
  get retryable(): boolean {
    return this.failure === 'server-error' || this.failure === 'network-error';
  }
}

/** Reads JSON from a FHIR server. The only I/O the decision needs; tests may supply their own server. */
export interface FhirReader {
  /**
   * GETs a URL relative to the server base, or an absolute one (a `next` link).
   * @param url - relative or absolute URL
   * @param signal - aborts at the request's deadline
   */
  get(url: string, signal: AbortSignal): Promise<unknown>;
}

export type FhirReaderFactory = (baseUrl: string, accessToken: string | undefined) => FhirReader;

interface KitError {
  response?: { status?: unknown };
  name?: unknown;
  cause?: unknown;
}

function classify(error: unknown, signal: AbortSignal): FhirRequestError {
  if (signal.aborted) {
    return new FhirRequestError('timeout');
  }
  const e = (error ?? {}) as KitError;
  const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
  if (status === undefined) {
    // fhir-kit-client throws a response error with the body text when JSON.parse fails on a 2xx.
    return e.name === 'SyntaxError' ? new FhirRequestError('malformed-response') : new FhirRequestError('network-error');
  }
  if (status === 401 || status === 403) {
    return new FhirRequestError('unauthorized', status);
  }
  if (status === 404 || status === 410) {
    return new FhirRequestError('not-found', status);
  }
  if (status >= 500) {
    return new FhirRequestError('server-error', status);
  }
  if (status >= 200 && status < 300) {
    return new FhirRequestError('malformed-response', status);
  }
  return new FhirRequestError('server-error', status);
}

/**
 * A reader over fhir-kit-client. It rejects with plain objects and types bodies loosely, so every error is
 * classified here and every body is returned as `unknown` for the caller to narrow.
 * @param baseUrl - the EHR's fhirServer
 * @param accessToken - bearer token from fhirAuthorization; an empty one sends no Authorization header
 */
export function fhirKitReader(baseUrl: string, accessToken: string | undefined): FhirReader {
  const client = new Client({ baseUrl, ...(accessToken ? { bearerToken: accessToken } : {}) });
  return {
    async get(url, signal) {
      try {
        return (await client.request(url, { options: { signal } })) as unknown;
      } catch (error) {
        throw classify(error, signal);
      }
    },
  };
}
