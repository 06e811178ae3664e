import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import request from 'supertest';
import type { Resource } from 'fhir/r4.js';
import { loadConfig } from '../../src/config.js';
import { coveredCode, determinations, responseProblems } from '../support/conformance.js';
import { condition, daysAgo, order, temperature } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { clearFaults, startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { testApp } from '../support/service.js';

const token = randomUUID();
// Long enough that a healthy server answers within it on a loaded two-core CI machine; short enough to wait for.
const DEADLINE_MS = 2000;
const app = testApp({ ...loadConfig({}), fhirTimeoutMs: DEADLINE_MS });
const coverage = { resourceType: 'Coverage', id: 'cov', status: 'active', beneficiary: { reference: 'Patient/pat' }, payor: [{ display: 'Example Medicare Advantage Plan' }] } as Resource;
// A patient with a documented cancer history (a condition) and a fever (an observation), plus routine vitals.
const records: Resource[] = [
  { resourceType: 'Patient', id: 'pat', birthDate: '1958-02-02' } as Resource,
  coverage,
  condition('M54.50', { onset: daysAgo(60) }),
  condition('Z85.46', { clinical: 'resolved', onset: daysAgo(2000) }),
  ...Array.from({ length: 70 }, (_, i) => temperature(36.7, daysAgo(i + 1))),
];
let fhir: FhirTestServer;
let foreign: FhirTestServer;

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: records });
  foreign = await startFhirTestServer({});
});
afterAll(async () => {
  await fhir.close();
  await foreign.close();
});
afterEach(() => {
  clearFaults(fhir);
});

async function sign(fhirServer = fhir.baseUrl): Promise<{ body: Record<string, any>; ms: number }> {
  const started = Date.now();
  const res = await request(app).post('/cds-services/cohere-lumbar-mri').send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer, token }));
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  return { body: res.body as Record<string, any>, ms: Date.now() - started };
}

function coverageInformation(body: Record<string, any>): Record<string, any>[] {
  return body.systemActions[0].resource.extension[0].extension;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('a failing FHIR server never crashes the hook nor yields a false "meets criteria"', () => {
  test('with the FHIR server healthy, the cancer history meets criteria', async () => {
    const { body } = await sign();
    expect(determinations(body)[0]?.decision).toBe('meets-criteria');
  });

  test('a server that is down: 200, nothing decided, coverage indeterminate for a technical reason', async () => {
    const { body, ms } = await sign(`http://127.0.0.1:${await closedPort()}/fhir`);
    expect(determinations(body)[0]?.decision).toBe('documentation-needed');
    expect(coveredCode(body, (body.systemActions[0].resource as { id: string }).id)).toBe('indeterminate');
    const reason = coverageInformation(body).find((e) => e.url === 'reason') ?? {};
    expect(reason.valueCodeableConcept.coding[0]).toMatchObject({ system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp', code: 'technical' });
    expect(coverageInformation(body).find((e) => e.url === 'coverage')?.valueReference.display).toBeDefined();
    expect(body.cards[0].detail).toContain('could not be reached');
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
  });

  test('a server slower than the deadline: answered within the deadline, saying what was not checked', async () => {
    fhir.faults.delayMs = DEADLINE_MS * 3;
    const { body, ms } = await sign();
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(determinations(body)[0]?.decision).not.toBe('meets-criteria');
    expect(body.cards[0].detail).toContain('did not answer in time');
  });

  test('500 on observations only: the cancer history still meets criteria, and observations are named unchecked', async () => {
    fhir.faults.status = { type: 'Observation', code: 500 };
    const { body } = await sign();
    expect(determinations(body)[0]?.decision).toBe('meets-criteria');
    expect(body.cards[0].detail).toContain('observations (vital signs, measurements): the FHIR server returned an error');
  });

  test('500 on conditions only: the cancer history cannot be seen, so it does not meet criteria by mistake', async () => {
    fhir.faults.status = { type: 'Condition', code: 500 };
    const { body } = await sign();
    expect(determinations(body)[0]?.decision).toBe('documentation-needed');
    expect(body.cards[0].detail).toContain('problems and diagnoses: the FHIR server returned an error');
  });

  test('401 from the FHIR server: every source unreadable, coverage indeterminate', async () => {
    fhir.faults.status = { type: '*', code: 401 };
    const { body } = await sign();
    expect(coveredCode(body, (body.systemActions[0].resource as { id: string }).id)).toBe('indeterminate');
    expect(body.cards[0].detail).toContain('the FHIR server refused access');
  });

  test('malformed JSON for conditions is reported as unreadable, not as an empty list', async () => {
    fhir.faults.malformed = 'Condition';
    const { body } = await sign();
    expect(determinations(body)[0]?.decision).toBe('documentation-needed');
    expect(body.cards[0].detail).toContain('unreadable response');
  });

  test('one 503 is retried and the answer is as if nothing had failed', async () => {
    fhir.faults.status = { type: 'Condition', code: 503, times: 1 };
    const { body } = await sign();
    expect(determinations(body)[0]?.decision).toBe('meets-criteria');
    expect(body.cards[0].detail).not.toContain('Could not be checked');
  });

  test('a next link to another host is not followed: the token never leaves for it', async () => {
    fhir.faults.foreignNextOrigin = foreign.baseUrl;
    const { body } = await sign();
    expect(foreign.requests).toEqual([]);
    expect(body.cards[0].detail).toContain('pointed to another server');
    expect(determinations(body)[0]?.decision).toBe('meets-criteria');
  });
});
