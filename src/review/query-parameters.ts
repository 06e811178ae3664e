import { ServiceError } from '../http/errors.js';
import { InvalidCursorError, StoreUnavailableError } from '../store/record-store.js';

/** An instant with a time zone, as FHIR instants are written (2026-11-30T12:00:00Z, …+01:00). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A reviewer's query, checked for unknown and repeated parameters, read one parameter at a time. */
export interface QueryParameters {
  /** The parameter as given, or undefined. */
  value(key: string): string | undefined;
  /** The parameter as epoch ms; a 400 naming it when it is not an instant with a time zone. */
  instant(key: string): number | undefined;
}

/**
 * The audit API's and the dashboard's query rule: every parameter known, each given once; the first wrong one is
 * named in the 400 (INVALID_QUERY), cut to 32 characters so a hostile name does not fill the answer.
 * @param raw - req.query
 * @param allowed - the endpoint's parameters
 */
export function queryParameters(raw: Record<string, unknown>, allowed: ReadonlySet<string>): QueryParameters {
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) {
      throw new ServiceError('INVALID_QUERY', `unknown parameter '${key.slice(0, 32)}' (accepted: ${[...allowed].join(', ')})`, key.slice(0, 32));
    }
    if (typeof raw[key] !== 'string') {
      throw new ServiceError('INVALID_QUERY', `${key} must be given once`, key);
    }
  }
  const value = (key: string): string | undefined => raw[key] as string | undefined;
  return {
    value,
    instant(key) {
      const v = value(key);
      if (v === undefined) {
        return undefined;
      }
      const ms = INSTANT.test(v) ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) {
        throw new ServiceError('INVALID_QUERY', `${key} must be an instant with a time zone, such as 2026-11-30T00:00:00Z`, key);
      }
      return ms;
    },
  };
}

/** Store failures in catalog terms: a database that is away is a 503, a foreign cursor a 400. */
export async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new ServiceError('STORE_UNAVAILABLE');
    }
    if (error instanceof InvalidCursorError) {
      throw new ServiceError('INVALID_QUERY', 'cursor must be the next value of a previous page', 'cursor');
    }
    throw error;
  }
}
