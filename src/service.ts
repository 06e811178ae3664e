import type { Express } from 'express';
import { loadCardTemplates } from './cds/card-templates.js';
import { loadCoverageCardTemplates } from './cds/coverage-cards.js';
import { loadServiceDefinitions } from './cds/discovery.js';
import type { Config } from './config.js';
import { loadConfigurationOptions } from './crd/configuration.js';
import { loadPlans } from './crd/plans.js';
import { fhirKitReader } from './fhir/fhir-reader.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { loadPolicy } from './policy/load-policy.js';
import type { RecordStore } from './store/record-store.js';

/**
 * The service as it runs: the policy, card templates and discovery entries read and validated from the
 * project's data folders (and the plans file, CDS_PLANS_FILE), FHIR read through fhir-kit-client. Every data file is checked here, so a broken
 * policy or template stops the start rather than a clinician's order.
 * @param config - the configuration
 * @param logger - the logger
 * @param store - the durable record, opened with createStore (src/store)
 */
export function createService(config: Config, logger: Logger, store: RecordStore): Express {
  return createApp({
    store,
    config,
    logger,
    loaded: loadPolicy(),
    templates: loadCardTemplates(),
    services: loadServiceDefinitions(),
    readerFactory: fhirKitReader,
    plans: loadPlans(config.plansFile),
    crdOptions: loadConfigurationOptions(),
    coverageCards: loadCoverageCardTemplates(),
  });
}
