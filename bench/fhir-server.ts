// The real FHIR test server in its own process for benchmark (d), every request delayed by FHIR_DELAY_MS.
import { typicalPatient } from './fixtures.js';
import { startFhirTestServer } from '../test/support/fhir-test-server.js';

const p = typicalPatient();
const server = await startFhirTestServer({ token: process.env.FHIR_TOKEN ?? 'bench', resources: [p.patient, ...p.resources] });
server.faults.delayMs = Number(process.env.FHIR_DELAY_MS ?? 40);
process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl, patientId: p.patient.id })}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
