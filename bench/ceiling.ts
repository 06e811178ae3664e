// The ceiling (issue #6 a): an express app with the service's own middleware stack answering every POST
// with a fixed JSON body, so the difference to the hook is the hook's own work.
import express from 'express';
import { loadConfig } from '../src/config.js';
import { installMiddleware } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';

const config = loadConfig();
const size = Number(process.env.CEILING_BODY_BYTES ?? 20_000);
const body = JSON.stringify({ cards: [{ summary: 'fixed', detail: 'x'.repeat(Math.max(0, size - 60)) }] });
const app = express();
installMiddleware(app, { config, logger: createLogger(config.logLevel), clock: Date.now });
app.post('/cds-services/:id', (_req, res) => {
  res.type('application/json').send(body);
});
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.listen(config.port, config.host);
