import { join } from 'node:path';
import express from 'express';
import { loadCardTemplates } from '../cds/card-templates.js';
import type { Config } from '../config.js';
import { errorHandler } from '../http/app.js';
import type { Logger } from '../logger.js';
import { loadPolicy } from '../policy/load-policy.js';
import { projectRoot } from '../project-root.js';
import { auditRouter } from '../review/audit-routes.js';
import { reviewPage } from '../review/review-page.js';
import { reviewVocabulary } from '../review/vocabulary.js';
import { createService } from '../service.js';
import type { RecordStore } from '../store/record-store.js';
import { createFhirService, type FhirService } from './fhir-server.js';
import { seedDemoHistory, type HistoryResult } from './history.js';
import { viewNotes } from './notes-view.js';
import { demoData, type DemoPatient } from './patients.js';

export interface Demo {
  readonly app: express.Express;
  readonly fhir: FhirService;
  readonly patients: readonly DemoPatient[];
  /** What the start wrote into the record (present when the demo was given one). */
  readonly history?: HistoryResult;
}

export interface DemoOptions {
  /**
   * The record behind the reviewers' dashboard: with one, the demo serves /review and /audit (issue #14) and
   * writes a month of history into it when it is empty.
   */
  readonly store?: RecordStore;
  /** Write the month of history into an empty record (default true). */
  readonly history?: boolean;
}

/**
 * The demo EHR in one app: a FHIR R4 server seeded with synthetic patients at /fhir, the ordering page at /,
 * the patient catalogue at /demo/api/patients, and the CDS service itself, which the page calls exactly as an
 * EHR does (CDS Hooks over HTTP). Given a record store, also the reviewers' dashboard at /review.
 * @param config - the service configuration (the demo turns client authentication off)
 * @param logger - the logger
 * @param options - the record store for /review and its history
 */
export async function createDemo(config: Config, logger: Logger, options: DemoOptions = {}): Promise<Demo> {
  const data = demoData();
  const fhir = await createFhirService({ resources: data.resources });
  const cds = createService(config, logger);
  const loaded = loadPolicy();
  const app = express();
  app.disable('x-powered-by');
  app.use('/fhir', fhir.router);
  app.get('/demo/api/patients', (_req, res) => {
    res.json(data.patients);
  });
  let history: HistoryResult | undefined;
  if (options.store !== undefined && config.reviewer.api === 'on') {
    if (options.history !== false) {
      history = await seedDemoHistory(options.store, config, logger);
    }
    const vocabulary = reviewVocabulary(loaded.policy, loadCardTemplates().overrideReasons);
    app.use('/audit', auditRouter({ store: options.store, reviewer: config.reviewer, logger, vocabulary }), errorHandler(logger));
    app.use('/review', reviewPage(), errorHandler(logger));
  }
  // The patient's notes as the service reads them, for the page to highlight (SPEC §8); read over HTTP from the
  // demo's own FHIR server, as the service does.
  app.get('/demo/api/patients/:id/notes', async (req, res, next) => {
    const id = String(req.params.id);
    if (!data.patients.some((p) => p.id === id)) {
      res.status(404).json({ notes: [] });
      return;
    }
    try {
      res.json({ notes: await viewNotes(loaded, `${req.protocol}://${req.get('host') ?? ''}/fhir`, id) });
    } catch (error) {
      next(error);
    }
  });
  app.use('/', express.static(join(projectRoot(), 'demo', 'page'), { index: 'index.html' }));
  app.use(cds);
  return { app, fhir, patients: data.patients, ...(history !== undefined ? { history } : {}) };
}
