import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createService } from '../../src/service.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { testStore } from './test-store.js';

/**
 * The service as production builds it, with test configuration and a chosen logger, recording into this test
 * file's store (a fresh PostgreSQL schema, test/support/test-store.ts) unless another is given.
 */
export function testApp(overrides: Partial<Config> = {}, logger: Logger = silentLogger, store: RecordStore = testStore()): Express {
  return createService({ ...loadConfig({}), ...overrides }, logger, store);
}
