import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { determinations, responseProblems } from '../support/conformance.js';
import { assertionFor } from '../support/crd.js';
import { fulfilPrefetch, hookRequest, type DiscoveredService } from '../support/ehr.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { problemsWith } from '../support/judge.js';
import { COVERAGE_SCENARIO_DIR, loadScenarios, type Scenario } from '../support/scenarios.js';
import { testApp } from '../support/service.js';

// SPEC §7.1 as named scenarios (test/fixtures/coverage-scenarios), signed over HTTP with the records on a real FHIR
// server, with prefetch filled from the service's own templates or left for the service to query.
const scenarios = loadScenarios(new Date(), COVERAGE_SCENARIO_DIR);
const token = randomUUID();
let fhir: FhirTestServer;
let app: Express;
let orderSign: DiscoveredService;

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: scenarios.flatMap((s) => [s.patient, ...s.resources]) });
  app = testApp();
  const services = ((await request(app).get('/cds-services')).body as { services: DiscoveredService[] }).services;
  orderSign = services.find((s) => s.hook === 'order-sign') as DiscoveredService;
});
afterAll(async () => {
  await fhir.close();
});

async function sign(scenario: Scenario, mode: 'prefetch' | 'fetch'): Promise<Record<string, any>> {
  const patientId = scenario.patient.id ?? '';
  const prefetch = mode === 'prefetch' ? await fulfilPrefetch(orderSign.prefetch ?? {}, { patientId, userId: 'Practitioner/ordering-physician' }, fhir.baseUrl, token) : undefined;
  const res = await request(app)
    .post(`/cds-services/${orderSign.id}`)
    .send(hookRequest({ hook: 'order-sign', patientId, draftOrders: scenario.draftOrders, fhirServer: fhir.baseUrl, token, ...(prefetch ? { prefetch } : {}) }));
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  return res.body as Record<string, any>;
}

describe.each(['prefetch', 'fetch'] as const)('whose coverage: each §7.1 scenario signed over HTTP (%s mode)', (mode) => {
  test.each(scenarios.map((s) => [`${s.id}: ${s.title}`, s] as const))('%s', async (_name, scenario) => {
    const body = await sign(scenario, mode);
    const orderId = scenario.draftOrders[0]?.id ?? '';
    const assertion = assertionFor(body, orderId);
    const want = scenario.expect.coverage ?? {};
    if (scenario.expect.determination === false) {
      expect(body.cards).toHaveLength(1);
      expect(determinations(body)).toEqual([]);
      // No approval: no pa-needed, no PA number, whatever the clinical record says.
      expect(assertion?.paNeeded).toBeUndefined();
    } else {
      const dets = determinations(body);
      expect(dets).toHaveLength(1);
      expect(problemsWith(scenario, dets[0] as { decision: string })).toEqual([]);
      expect(body.cards[0].source.label).toBe('Example Medicare Advantage Plan');
    }
    if (want.covered !== undefined) {
      expect(assertion?.covered).toBe(want.covered);
    }
    if (want.reason !== undefined) {
      expect(assertion?.reasons).toContain(want.reason);
    }
    if (want.reference !== undefined) {
      expect(assertion?.coverage).toBe(want.reference);
    }
  });
});
