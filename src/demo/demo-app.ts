import { join } from 'node:path';
import express from 'express';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { loadPolicy } from '../policy/load-policy.js';
import { projectRoot } from '../project-root.js';
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
  /** Write a month of history into an empty record, so /review is worth opening on a fresh clone (default true). */
  readonly history?: boolean;
}

/**
 * The demo EHR in one app: a FHIR R4 server seeded with synthetic patients at /fhir, the ordering page at /,
 * the patient catalogue at /demo/api/patients, and the CDS service itself, which the page calls exactly as an
 * EHR does (CDS Hooks over HTTP), with its record and the reviewers' dashboard at /review.
 * @param config - the service configuration (the demo turns client authentication off)
 * @param logger - the logger
 * @param store - the record store (npm start: the embedded PGlite under ./data, so a restart keeps the record)
 * @param options - whether to write a month of history into an empty record
 */
export async function createDemo(config: Config, logger: Logger, store: RecordStore, options: DemoOptions = {}): Promise<Demo> {
  const data = demoData();
  const fhir = await createFhirService({ resources: data.resources });
  const cds = createService(config, logger, store);
  const loaded = loadPolicy();
  const app = express();
  app.disable('x-powered-by');
  app.use('/fhir', fhir.router);
  app.get('/demo/api/patients', (_req, res) => {
    res.json(data.patients);
  });
  // The service serves /audit and /review itself; the demo only gives them something to show.
  const history = config.reviewer.api === 'on' && options.history !== false ? await seedDemoHistory(store, config, logger) : undefined;
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
