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
  /** Note texts read for a hook call (a count). */
  readonly notesRead?: number;
  /** Notes not read, as "reason:count" ("unsupported-format:1"). */
  readonly notesUnread?: readonly string[];
  /** Da Vinci CRD configuration options a request sent that could not be applied (option codes). */
  readonly configuration?: readonly string[];
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
  /** What became of a hook call's record (durable, queued, dropped) and how long the call waited for it. */
  readonly record?: string;
  readonly recordMs?: number;
}

export interface Logger {
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** Writes out anything buffered (before exit). */
  flush?(): void;
  /** Writes out anything buffered, synchronously when it can, and stops the periodic flush (at shutdown). */
  close?(): void;
}

/** A destination that batches writes and can be told to write them out (pino's SonicBoom). */
interface FlushableDestination extends DestinationStream {
  flush(): void;
  flushSync?(): void;
}

function isFlushable(d: DestinationStream): d is FlushableDestination {
  return typeof (d as Partial<FlushableDestination>).flush === 'function';
}

/** How often batched log lines are written out at the latest (issue #12: demo lines arrived minutes late). */
export const LOG_FLUSH_MS = 1_000;

/**
 * Where log lines go by default: standard output (or a file), written in batches of 4 KB off the request path.
 * @param dest - a file descriptor (1: standard output) or a file path
 */
export function batchedDestination(dest: number | string = 1): DestinationStream {
  return pino.destination({ dest, sync: false, minLength: 4096 });
}

/**
 * A pino logger writing one JSON line per entry. Redaction is a second guard behind LogFields. A batching
 * destination is flushed at least every `LOG_FLUSH_MS` while lines are waiting, so that a quiet service's last
 * lines do not sit in the batch until 4 KB more arrive; the timer does not keep the process alive.
 * @param level - pino level
 * @param destination - where to write (tests capture it); by default batched standard output
 * @param flushEveryMs - the longest a line waits in a batch
 */
export function createLogger(level = 'info', destination: DestinationStream = batchedDestination(), flushEveryMs = LOG_FLUSH_MS): Logger {
  const options = {
    level,
    base: { service: 'necessity' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['authorization', 'access_token', '*.authorization', '*.access_token', 'body', 'prefetch'], censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const logger = pino(options, destination);
  // Timer ticks left that should still flush: two after the last line, because a flush that finds a write in
  // flight does nothing, and what was buffered behind that write would otherwise wait for the next 4 KB.
  let ticksLeft = 0;
  const flush = (): void => {
    // SonicBoom's own flush, without a callback: pino's logger.flush() passes one, and each such call adds a
    // 'drain' and an 'error' listener (and an fsync) that stay until the stream drains, which under sustained
    // load it may not do for a long time: a listener a second, without bound.
    if (isFlushable(destination)) {
      try {
        destination.flush();
      } catch {
        // A destroyed stream (its reader went away) throws without a callback; a log line is not worth a crash.
      }
    } else {
      logger.flush();
    }
  };
  // Only a batching destination needs the timer, and it flushes only when something was logged lately.
  const timer = isFlushable(destination)
    ? setInterval(() => {
        if (ticksLeft > 0) {
          ticksLeft--;
          flush();
        }
      }, flushEveryMs)
    : undefined;
  timer?.unref();
  const logged = (): void => {
    ticksLeft = 2;
  };
  return {
    info: (fields, msg) => {
      logger.info(fields, msg);
      logged();
    },
    warn: (fields, msg) => {
      logger.warn(fields, msg);
      logged();
    },
    error: (fields, msg) => {
      logger.error(fields, msg);
      logged();
    },
    flush,
    close: () => {
      clearInterval(timer);
      ticksLeft = 0;
      // The process exits next: write the last batch now, not on a later turn of the event loop.
      if (isFlushable(destination) && destination.flushSync) {
        try {
          destination.flushSync();
          return;
        } catch {
          // Not open yet, or a write in progress: the asynchronous flush below is the best left to do.
        }
      }
      logger.flush();
    },
  };
}

/** A logger that drops everything (unit tests that do not look at logs). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
