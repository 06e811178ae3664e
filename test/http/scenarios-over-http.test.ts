import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { coveredCode, determinations, responseProblems } from '../support/conformance.js';
import { fulfilPrefetch, hookRequest, type DiscoveredService } from '../support/ehr.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { problemsWith } from '../support/judge.js';
import { loadScenarios, type Scenario } from '../support/scenarios.js';
import { testApp } from '../support/service.js';

const COVERED_BY_DECISION: Record<string, string> = {
  'meets-criteria': 'covered',
  'documentation-needed': 'conditional',
  'does-not-meet-criteria': 'not-covered',
};

const scenarios = loadScenarios();
const token = randomUUID();
let fhir: FhirTestServer;
let app: Express;
let services: DiscoveredService[];

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: scenarios.flatMap((s) => [s.patient, ...s.resources]) });
  app = testApp();
  services = ((await request(app).get('/cds-services')).body as { services: DiscoveredService[] }).services;
});

afterAll(async () => {
  await fhir.close();
});

async function sign(scenario: Scenario, mode: 'prefetch' | 'fetch'): Promise<Record<string, unknown>> {
  const service = services.find((s) => s.hook === scenario.hook);
  if (!service) {
    throw new Error(`no ${scenario.hook} service in discovery`);
  }
  const patientId = scenario.patient.id ?? '';
  const prefetch =
    mode === 'prefetch' ? await fulfilPrefetch(service.prefetch ?? {}, { patientId, userId: 'Practitioner/ordering-physician' }, fhir.baseUrl, token) : undefined;
  const body = hookRequest({ hook: scenario.hook, patientId, draftOrders: scenario.draftOrders, fhirServer: fhir.baseUrl, token, ...(prefetch ? { prefetch } : {}) });
  const res = await request(app).post(`/cds-services/${service.id}`).send(body);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

describe.each(['prefetch', 'fetch'] as const)('an EHR signing each public scenario (%s mode) over HTTP with a real FHIR server', (mode) => {
  test.each(scenarios.map((s) => [`${s.id}: ${s.title}`, s] as const))('%s', async (_name, scenario) => {
    const body = await sign(scenario, mode);
    expect(responseProblems(body)).toEqual([]);
    const dets = determinations(body);
    if (scenario.expect.cards === 0) {
      expect(body.cards).toEqual([]);
      return;
    }
    expect(dets).toHaveLength(1);
    const det = dets[0] as { decision: string; satisfied?: string[]; missing?: string[]; order: string };
    expect(det.order).toBe(`ServiceRequest/${scenario.draftOrders[0]?.id ?? ''}`);
    expect(problemsWith(scenario, det)).toEqual([]);
    expect(new Set(det.satisfied).size).toBe(det.satisfied?.length ?? 0);
    if (scenario.hook === 'order-sign') {
      expect(coveredCode(body, scenario.draftOrders[0]?.id ?? '')).toBe(COVERED_BY_DECISION[det.decision]);
    } else {
      expect(body.systemActions).toBeUndefined();
    }
  });
});

test('the service never sent the FHIR server a request without the bearer token', () => {
  expect(fhir.unauthorized).toBe(0);
});
