import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createService } from './service.js';

/**
 * Builds the service from its data and configuration, and listens.
 * @param config - the configuration
 * @param logger - the logger
 */
export async function startService(config: Config, logger: Logger): Promise<Server> {
  const app = createService(config, logger);
  return new Promise((resolve, reject) => {
    const server = app.listen(config.port, config.host, () => resolve(server));
    server.once('error', reject);
  });
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

/** Drains and exits on SIGTERM or SIGINT. */
export function drainOnSignal(server: Server, logger: Logger): void {
  const stop = (signal: string): void => {
    logger.info({ event: 'shutdown' }, `${signal}: draining in-flight requests`);
    void drain(server).then(() => {
      // Writes out the last batch and stops the periodic flush.
      logger.close?.();
      process.exit(0);
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
  startService(config, logger)
    .then((server) => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      logger.info({ event: 'listening', host: config.host, port }, `necessity listening on http://${config.host}:${port}/cds-services`);
      logger.flush?.();
      drainOnSignal(server, logger);
    })
    .catch((error: unknown) => {
      logger.error({ event: 'startup-failed', errorName: error instanceof Error ? error.name : typeof error }, error instanceof Error ? error.message : 'start failed');
      logger.close?.();
      process.exit(1);
    });
}
