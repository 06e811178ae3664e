import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { drainOnSignal } from '../server.js';
import { createDemo } from './demo-app.js';

// npm start: the service and its demo EHR on one port. Client JWTs are not verified here (CDS_AUTH=off) and
// system actions are mirrored where the CDS Hooks sandbox reads them.
const config = loadConfig({ ...process.env, CDS_AUTH: 'off', CDS_MIRROR_SYSTEM_ACTIONS: process.env.CDS_MIRROR_SYSTEM_ACTIONS ?? 'on' });
const logger = createLogger(config.logLevel);
const demo = await createDemo(config, logger);
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
  process.stdout.write(
    [
      '',
      'necessity demo is running (client authentication is off: for local use only)',
      `  Ordering page      ${base}/`,
      `  CDS discovery      ${base}/cds-services`,
      `  Demo FHIR server   ${base}/fhir  (${demo.patients.length} patients)`,
      `  CDS Hooks sandbox  ${sandbox.toString()}`,
      '',
    ].join('\n') + '\n',
  );
});
drainOnSignal(server, logger);
