import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createService } from '../../src/service.js';

/** The service as production builds it, with test configuration and a chosen logger. */
export function testApp(overrides: Partial<Config> = {}, logger: Logger = silentLogger): Express {
  return createService({ ...loadConfig({}), ...overrides }, logger);
}
