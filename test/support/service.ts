import type { Express } from 'express';
import { loadCardTemplates } from '../../src/cds/card-templates.js';
import { loadServiceDefinitions } from '../../src/cds/discovery.js';
import { loadConfig, type Config } from '../../src/config.js';
import { fhirKitReader } from '../../src/fhir/fhir-reader.js';
import { createApp } from '../../src/http/app.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { loadPolicy } from '../../src/policy/load-policy.js';

/** The service as production builds it, with test configuration and a chosen logger. */
export function testApp(overrides: Partial<Config> = {}, logger: Logger = silentLogger): Express {
  return createApp({
    config: { ...loadConfig({}), ...overrides },
    logger,
    loaded: loadPolicy(),
    templates: loadCardTemplates(),
    services: loadServiceDefinitions(),
    readerFactory: fhirKitReader,
  });
}
