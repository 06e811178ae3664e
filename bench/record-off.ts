// (b) of the benchmark: the service exactly as src/server.ts builds it (createService, the same configuration from
// the environment), with a record store that keeps nothing. (h) runs src/server.ts itself, recording into PGlite or
// PostgreSQL, and is compared with this.
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { drain } from '../src/server.js';
import { createService } from '../src/service.js';
import { noRecord } from './no-record.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const server = createService(config, logger, noRecord).listen(config.port, config.host);
// Exits through process.exit, as the service does, so that a CPU profile (--cpu-prof) is written.
process.once('SIGTERM', () => {
  void drain(server).then(() => {
    logger.close?.();
    process.exit(0);
  });
});
