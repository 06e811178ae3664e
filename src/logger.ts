import { pino, type DestinationStream } from 'pino';

/**
 * The only fields a log line may carry. A closed list, so that a request body, a resource, a name or a
 * token cannot be logged by accident: anything clinical stays out of the logs (DEVELOPERS.md).
 */
export interface LogFields {
  readonly event?: string;
  readonly method?: string;
  readonly route?: string;
  readonly status?: number;
  readonly durationMs?: number;
  readonly service?: string;
  readonly hook?: string;
  readonly hookInstance?: string;
  readonly orders?: number;
  readonly decisions?: readonly string[];
  readonly fhirRequests?: number;
  readonly unchecked?: readonly string[];
  readonly code?: string;
  readonly field?: string;
  readonly card?: string;
  readonly outcome?: string;
  readonly overrideReason?: string;
  readonly acceptedSuggestions?: number;
  readonly hasComment?: boolean;
  readonly duplicate?: boolean;
  readonly port?: number;
  readonly host?: string;
  readonly errorName?: string;
  /** Why a client was refused (an AuthFailure code). */
  readonly reason?: string;
  /** The issuer a refused token claimed: a URL, not a secret. */
  readonly issuer?: string;
  /** The record store: which engine, records waiting in its queue, records refused, rows deleted. */
  readonly engine?: string;
  readonly queued?: number;
  readonly dropped?: number;
  readonly deleted?: number;
  /** Which reviewer token was used: the first 8 hex digits of its SHA-256, never the token. */
  readonly reviewer?: string;
  /** Migrations applied at start (their versioned names). */
  readonly migrations?: readonly string[];
}

export interface Logger {
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** Writes out anything buffered (before exit). */
  flush?(): void;
}

/**
 * A pino logger writing one JSON line per entry. Redaction is a second guard behind LogFields.
 * @param level - pino level
 * @param destination - where to write (tests capture it)
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'necessity' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['authorization', 'access_token', '*.authorization', '*.access_token', 'body', 'prefetch'], censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Standard output is written in 4 KB batches off the request path; flushed at shutdown.
  const logger = pino(options, destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  return {
    info: (fields, msg) => logger.info(fields, msg),
    warn: (fields, msg) => logger.warn(fields, msg),
    error: (fields, msg) => logger.error(fields, msg),
    flush: () => logger.flush(),
  };
}

/** A logger that drops everything (unit tests that do not look at logs). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
