import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createService } from './service.js';
import { createStore } from './store/create-store.js';
import type { RecordStore } from './store/record-store.js';
import { scheduleRetention } from './store/retention.js';

/** A listening service and what its shutdown must finish: the record store and its retention timer. */
export interface RunningService {
  readonly server: Server;
  readonly store: RecordStore;
  /** Stops the retention cleanup and waits for a run in progress. */
  readonly stopRetention: () => Promise<void>;
}

/**
 * Opens the record store (PostgreSQL at DATABASE_URL, else the embedded PGlite under NECESSITY_DATA_DIR; a
 * PostgreSQL that cannot be reached yet opens degraded, see createStore), builds the service from its data
 * and configuration, starts the retention cleanup, and listens.
 * @param config - the configuration
 * @param logger - the logger
 * @param options - a store already opened (tests), else one is opened from config.store
 */
export async function startService(config: Config, logger: Logger, options: { readonly store?: RecordStore } = {}): Promise<RunningService> {
  const store = options.store ?? (await createStore(config.store, logger));
  let server: Server;
  try {
    const app = createService(config, logger, store);
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
  } catch (error) {
    await store.close(1_000).catch(() => undefined);
    throw error;
  }
  return { server, store, stopRetention: scheduleRetention(store, config.store.retentionDays, logger) };
}

/**
 * Stops accepting connections and resolves once in-flight requests have finished. Idle keep-alive
 * connections are closed at once; a request stuck longer than `graceMs` is cut.
 * @param server - the listening server
 * @param graceMs - the longest wait for in-flight requests
 */
export function drain(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    // A connection that finishes its request becomes idle keep-alive: close those as they appear.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      server.closeAllConnections();
      clearInterval(sweep);
      resolve();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** How long shutdown waits for the record queue to reach the database (deploy/: the grace period allows 15 s). */
export const FLUSH_MS = 15_000;

/**
 * The graceful shutdown (issue #13 §4): stop accepting, let in-flight requests finish (≤ graceMs: their records
 * join the queue), stop the retention cleanup, write the queue out (≤ flushMs), close the store. Resolves how
 * many records could not be written (the store logs them as lost).
 * @param running - the service
 * @param options - graceMs for the drain, flushMs for the queue
 */
export async function shutdown(running: RunningService, options: { readonly graceMs?: number; readonly flushMs?: number } = {}): Promise<number> {
  await drain(running.server, options.graceMs ?? 10_000);
  await running.stopRetention();
  const { remaining } = await running.store.close(options.flushMs ?? FLUSH_MS);
  return remaining;
}

/**
 * Shuts down and exits on SIGTERM or SIGINT: drain, flush the record queue, close the store, write the last
 * log lines, exit (1 when records were lost).
 * @param running - the service
 * @param logger - the logger
 */
export function shutdownOnSignal(running: RunningService, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ event: 'shutdown' }, `${signal}: draining in-flight requests, then writing the record queue`);
    void shutdown(running)
      .then(
        (remaining) => {
          logger.info({ event: 'shutdown-complete', queued: remaining }, remaining === 0 ? 'every record is written; exiting' : 'exiting with records unwritten');
          return remaining === 0 ? 0 : 1;
        },
        (error: unknown) => {
          logger.error({ event: 'shutdown-failed', errorName: error instanceof Error ? error.name : typeof error }, 'shutdown failed');
          return 1;
        },
      )
      .then((code) => {
        // Writes out the last batch and stops the periodic flush.
        logger.close?.();
        process.exit(code);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    const early = createLogger();
    early.error({ event: 'startup-failed', errorName: 'ConfigError' }, error instanceof Error ? error.message : 'invalid configuration');
    early.close?.();
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.authOffReason !== undefined) {
    logger.warn({ event: 'auth-off' }, config.authOffReason);
  }
  if (config.reviewer.warning !== undefined) {
    logger.warn({ event: 'reviewer-tokens-missing' }, config.reviewer.warning);
  }
  startService(config, logger)
    .then((running) => {
      const address = running.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      logger.info({ event: 'listening', host: config.host, port, engine: running.store.engine }, `necessity listening on http://${config.host}:${port}/cds-services`);
      logger.flush?.();
      shutdownOnSignal(running, logger);
    })
    .catch((error: unknown) => {
      logger.error({ event: 'startup-failed', errorName: error instanceof Error ? error.name : typeof error }, error instanceof Error ? error.message : 'start failed');
      logger.close?.();
      process.exit(1);
    });
}
