import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { shutdownOnSignal } from '../server.js';
import { createStore } from '../store/create-store.js';
import { scheduleRetention } from '../store/retention.js';
import { createDemo } from './demo-app.js';

// npm start: the service and its demo EHR on one port. Client JWTs are not verified here (CDS_AUTH=off) and
// system actions are mirrored where the CDS Hooks sandbox reads them. The reviewers' dashboard (/review) gets a
// token generated for this run, printed below for local use, unless CDS_REVIEWER_TOKENS names one.
const generatedToken = (process.env.CDS_REVIEWER_TOKENS ?? '').trim() === '' && process.env.NODE_ENV !== 'production' ? randomBytes(24).toString('base64url') : undefined;
const config = loadConfig({
  ...process.env,
  CDS_AUTH: 'off',
  CDS_MIRROR_SYSTEM_ACTIONS: process.env.CDS_MIRROR_SYSTEM_ACTIONS ?? 'on',
  ...(generatedToken !== undefined ? { CDS_REVIEWER_TOKENS: generatedToken } : {}),
});
const logger = createLogger(config.logLevel);
// The record: the embedded PGlite under NECESSITY_DATA_DIR (default ./data) unless DATABASE_URL is set; a restart keeps it.
const store = await createStore(config.store, logger);
const demo = await createDemo(config, logger, store);
const server = demo.app.listen(config.port, config.host, () => {
  const base = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const sandboxPatient = demo.patients.at(-1)?.id ?? '';
  const sandbox = new URL('https://sandbox.cds-hooks.org/');
  sandbox.search = new URLSearchParams({
    fhirServiceUrl: `${base}/fhir`,
    patientId: sandboxPatient,
    serviceDiscoveryURL: `${base}/cds-services`,
    hook: 'order-select',
    screen: 'pama',
  }).toString();
  const review =
    config.reviewer.api === 'on'
      ? [
          `  Reviewer dashboard ${base}/review  (${store.engine === 'pglite' ? `record in ${config.store.dataDir}/pglite` : 'record in PostgreSQL'}${demo.history?.seeded === true ? `; a month of history written: ${demo.history.invocations} orders` : ''})`,
          generatedToken !== undefined ? `  Reviewer token     ${generatedToken}  (generated for this run; set CDS_REVIEWER_TOKENS to choose one)` : '  Reviewer token     one of CDS_REVIEWER_TOKENS',
        ]
      : [];
  process.stdout.write(
    [
      '',
      'necessity demo is running (client authentication is off: for local use only)',
      `  Ordering page      ${base}/`,
      `  CDS discovery      ${base}/cds-services`,
      `  Demo FHIR server   ${base}/fhir  (${demo.patients.length} patients)`,
      `  CDS Hooks sandbox  ${sandbox.toString()}`,
      ...review,
      '',
    ].join('\n') + '\n',
  );
});
shutdownOnSignal({ server, store, stopRetention: scheduleRetention(store, config.store.retentionDays, logger) }, logger);
