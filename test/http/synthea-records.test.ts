import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { responseProblems, determinations } from '../support/conformance.js';
import { fulfilPrefetch, hookRequest } from '../support/ehr.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { loadSyntheaRecord } from '../support/synthea.js';
import { planCoverage } from '../support/clinical.js';
import { testApp } from '../support/service.js';

// The records copied into the repo (test fixtures and the demo's); SYNTHEA_DIR=<folder> runs every bundle of
// another folder instead.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs = process.env.SYNTHEA_DIR ? [process.env.SYNTHEA_DIR] : [join(root, 'test', 'fixtures', 'synthea'), join(root, 'demo', 'synthea')];
const records = dirs.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !/^(INDEX|hospital|practitioner)/.test(f))
    .map((f) => ({ file: f, ...loadSyntheaRecord(join(dir, f)) })),
);
const token = randomUUID();
const app = testApp();
let fhir: FhirTestServer;

beforeAll(async () => {
  // Bundles share organizations and practitioners: store each resource once.
  const unique = new Map(records.flatMap((r) => [r.patient, ...r.resources]).map((x) => [`${x.resourceType}/${x.id ?? ''}`, x]));
  // Synthea records carry no Coverage: each patient is made a member of the configured plan (SPEC §7.1).
  for (const r of records) {
    const c = planCoverage(r.patient.id ?? '');
    unique.set(`Coverage/${c.id ?? ''}`, c);
  }
  fhir = await startFhirTestServer({ token, resources: [...unique.values()] });
}, 120_000);

afterAll(async () => {
  await fhir.close();
});

function lumbarMri(patientId: string): Record<string, unknown> {
  return {
    resourceType: 'ServiceRequest',
    id: `mri-${patientId.slice(0, 8)}`,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72148' }] },
  };
}

describe.each(['prefetch', 'fetch'] as const)('real-shaped Synthea records signed for a lumbar MRI (%s mode)', (mode) => {
  test.each(records.map((r) => [r.file, r] as const))('%s answers 200 with one valid determination', async (_file, record) => {
    const patientId = record.patient.id ?? '';
    const services = (await request(app).get('/cds-services')).body.services as { hook: string; prefetch: Record<string, string> }[];
    const templates = services.find((s) => s.hook === 'order-sign')?.prefetch ?? {};
    const prefetch = mode === 'prefetch' ? await fulfilPrefetch(templates, { patientId, userId: 'Practitioner/1' }, fhir.baseUrl, token) : undefined;
    const body = hookRequest({ hook: 'order-sign', patientId, draftOrders: [lumbarMri(patientId) as never], fhirServer: fhir.baseUrl, token, ...(prefetch ? { prefetch } : {}) });
    const res = await request(app).post('/cds-services/cohere-lumbar-mri').send(body);
    expect(res.status).toBe(200);
    expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
    const dets = determinations(res.body as Record<string, unknown>);
    expect(dets).toHaveLength(1);
    expect(['meets-criteria', 'documentation-needed', 'does-not-meet-criteria']).toContain(dets[0]?.decision);
  });
});
