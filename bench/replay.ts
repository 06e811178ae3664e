// (a″) of the benchmark: everything the service does for an order-sign call except the hook's own work. Same
// middleware, the request validated by the service's own validators, the hook's log line, and the service's
// real response for the typical patient serialised on every call; the determination itself is computed once at
// start-up and replayed. (a) → (a″) is the cost of the code around the hook; (a″) → (b) the hook's work.
import express from 'express';
import { loadCardTemplates } from '../src/cds/card-templates.js';
import { loadCoverageCardTemplates } from '../src/cds/coverage-cards.js';
import { loadConfigurationOptions } from '../src/crd/configuration.js';
import { loadPlans } from '../src/crd/plans.js';
import { loadServiceDefinitions, prefetchTemplates } from '../src/cds/discovery.js';
import { requestValidators } from '../src/cds/hook-request.js';
import { createOrderHook } from '../src/cds/order-hook.js';
import { loadConfig } from '../src/config.js';
import { fhirKitReader } from '../src/fhir/fhir-reader.js';
import { hookLogFields, installMiddleware } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { loadPolicy } from '../src/policy/load-policy.js';
import { orderSign, typicalPatient } from './fixtures.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const service = loadServiceDefinitions().find((d) => d.hooks.includes('order-sign'));
if (!service) {
  throw new Error('no service definition');
}
const prefetch = prefetchTemplates(service);
const validators = requestValidators(prefetch.map((t) => t.key));
const hook = createOrderHook({
  loaded: loadPolicy(),
  templates: loadCardTemplates(),
  prefetch,
  gather: { readerFactory: fhirKitReader, deadlineMs: config.fhirTimeoutMs, maxPages: config.fhirMaxPages },
  mirrorSystemActions: config.mirrorSystemActions,
  questionnaires: { served: () => Promise.resolve(new Set<string>()) },
  plans: loadPlans(config.plansFile),
  crdOptions: loadConfigurationOptions(),
  coverageCards: loadCoverageCardTemplates(),
});
const first = validators.hookRequest(JSON.parse(JSON.stringify(orderSign(typicalPatient(), { prefetch: true }))));
if (!first.ok) {
  throw new Error(first.message);
}
const result = await hook(first.value, Date.now(), `http://${config.host}:${config.port}`);

const app = express();
installMiddleware(app, { config, logger, clock: Date.now });
app.post('/cds-services/:id', (req, res) => {
  const checked = validators.hookRequest(req.body);
  if (!checked.ok) {
    res.status(400).end();
    return;
  }
  // Nothing is computed here: a duration of 0, in the same line the service writes.
  logger.info(hookLogFields(service.id, checked.value, result, 0), 'replayed');
  res.json(result.response);
});
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.listen(config.port, config.host);
