import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Resource } from 'fhir/r4.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { drain, startService } from '../../src/server.js';
import { condition, order } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { startFhirTestServer } from '../support/fhir-test-server.js';
import { testStore } from '../support/test-store.js';

test('on shutdown an in-flight order-sign finishes with its answer, and new calls are refused', async () => {
  const token = randomUUID();
  const fhir = await startFhirTestServer({ token, resources: [{ resourceType: 'Patient', id: 'pat' } as Resource, condition('Z85.46')] });
  fhir.faults.delayMs = 300;
  const running = await startService({ ...loadConfig({}), port: 0 }, silentLogger, { store: testStore() });
  const server = running.server;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cds-services/cohere-lumbar-mri`;
  const inFlight = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token })),
  });
  await new Promise((r) => setTimeout(r, 100));
  const drained = drain(server);
  await expect(fetch(url.replace('/cohere-lumbar-mri', ''))).rejects.toThrow();
  const res = await inFlight;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { cards: unknown[] }).cards).toHaveLength(1);
  await drained;
  await running.stopRetention();
  await fhir.close();
});
