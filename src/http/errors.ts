import type { OperationOutcome } from 'fhir/r4.js';

/**
 * The closed catalog of errors this service answers with, mapped to HTTP in one place. Each carries the
 * FHIR issue type of its OperationOutcome body.
 */
export const ERROR_CATALOG = {
  INVALID_REQUEST: { status: 400, issue: 'invalid', text: 'The request is not a valid CDS Hooks call' },
  MALFORMED_JSON: { status: 400, issue: 'structure', text: 'The request body is not valid JSON' },
  INSECURE_FHIR_SERVER: { status: 400, issue: 'security', text: 'The FHIR server must be reached over https: the service will not send the EHR\'s access token over plain http' },
  UNAUTHORIZED: { status: 401, issue: 'login', text: 'The caller is not authenticated' },
  REVIEWER_UNAUTHORIZED: { status: 401, issue: 'login', text: 'The audit API needs a reviewer token' },
  INVALID_QUERY: { status: 400, issue: 'invalid', text: 'A query parameter is not valid' },
  ASSERTION_NOT_FOUND: { status: 404, issue: 'not-found', text: 'No recorded determination carries that id' },
  DETERMINATION_NOT_FOUND: { status: 404, issue: 'not-found', text: 'No recorded determination has that id' },
  STORE_UNAVAILABLE: { status: 503, issue: 'transient', text: 'The record store cannot be reached; try again shortly' },
  UNKNOWN_SERVICE: { status: 404, issue: 'not-found', text: 'No CDS service has that id' },
  NOT_FOUND: { status: 404, issue: 'not-found', text: 'Nothing is served at this path' },
  METHOD_NOT_ALLOWED: { status: 405, issue: 'not-supported', text: 'This method is not supported here' },
  NO_DATA_ACCESS: { status: 412, issue: 'incomplete', text: 'Neither prefetch nor a FHIR server was provided, so no patient data can be read' },
  PAYLOAD_TOO_LARGE: { status: 413, issue: 'too-costly', text: 'The request body is too large' },
  UNSUPPORTED_ENCODING: { status: 415, issue: 'not-supported', text: 'The request body encoding is not supported' },
  INTERNAL: { status: 500, issue: 'exception', text: 'The service failed unexpectedly' },
} as const satisfies Record<string, { status: number; issue: string; text: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** An error of the catalog, with an optional detail and the offending field. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  /**
   * @param code - catalog code
   * @param detail - what exactly was wrong; never patient data
   * @param field - the request field at fault ("context.patientId")
   */
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly field?: string,
  ) {
    super(detail ?? ERROR_CATALOG[code].text);
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }
}

/** The OperationOutcome body of an error response. */
export function operationOutcome(error: ServiceError): OperationOutcome {
  const entry = ERROR_CATALOG[error.code];
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: entry.issue,
        details: { coding: [{ system: 'http://necessity.example.org/fhir/CodeSystem/error', code: error.code }], text: entry.text },
        ...(error.detail !== undefined ? { diagnostics: error.detail } : {}),
        ...(error.field !== undefined ? { expression: [error.field] } : {}),
      },
    ],
  };
}

/** body-parser's error shape (express.json). */
interface ParserError {
  type?: unknown;
  status?: unknown;
}

/**
 * Maps anything thrown in a request to the catalog: body-parser failures become 400/413/415, anything
 * unrecognised is INTERNAL (and its message is not sent to the client).
 */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) {
    return error;
  }
  const e = (error ?? {}) as ParserError;
  switch (e.type) {
    case 'entity.parse.failed':
      return new ServiceError('MALFORMED_JSON');
    case 'entity.too.large':
      return new ServiceError('PAYLOAD_TOO_LARGE');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ServiceError('UNSUPPORTED_ENCODING');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ServiceError('INVALID_REQUEST', 'the request body could not be read');
    default:
      return new ServiceError('INTERNAL');
  }
}
