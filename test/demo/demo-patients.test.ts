import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createDemo, type Demo } from '../../src/demo/demo-app.js';
import { silentLogger } from '../../src/logger.js';
import { testStore } from '../support/test-store.js';
import { determinations, responseProblems } from '../support/conformance.js';
import { fulfilPrefetch, hookRequest } from '../support/ehr.js';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';

let demo: Demo;
let server: Server;
let base: string;

beforeAll(async () => {
  demo = await createDemo(loadConfig({ CDS_AUTH: 'off', CDS_MIRROR_SYSTEM_ACTIONS: 'on' }), silentLogger, testStore());
  server = demo.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const DECISION: Record<string, string> = { 'meets criteria': 'meets-criteria', 'documentation needed': 'documentation-needed', 'does not meet criteria': 'does-not-meet-criteria' };

describe('every demo patient reaches the decision the ordering page promises', () => {
  test('there are about a dozen patients, each showing one path', () => {
    expect(demo.patients.length).toBeGreaterThanOrEqual(12);
  });

  test.each(['prefetch', 'fetch'] as const)('signed the way the page does it (%s)', async (mode) => {
    const services = (await request(demo.app).get('/cds-services')).body.services as { id: string; hook: string; prefetch: Record<string, string> }[];
    const sign = services.find((s) => s.hook === 'order-sign');
    for (const p of demo.patients) {
      const order = {
        resourceType: 'ServiceRequest',
        id: `draft-${p.id.slice(0, 12)}`,
        status: 'draft',
        intent: 'order',
        subject: { reference: `Patient/${p.id}` },
        code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: p.suggestedOrder.code }] },
        ...(p.suggestedOrder.reason ? { reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: p.suggestedOrder.reason }] }] } : {}),
        ...(['76390', '72159'].includes(p.suggestedOrder.code) ? { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] } : {}),
      };
      const prefetch = mode === 'prefetch' ? await fulfilPrefetch(sign?.prefetch ?? {}, { patientId: p.id, userId: 'Practitioner/demo' }, `${base}/fhir`, undefined) : undefined;
      const res = await request(demo.app)
        .post(`/cds-services/${sign?.id ?? ''}`)
        .send(hookRequest({ hook: 'order-sign', patientId: p.id, draftOrders: [order as never], fhirServer: `${base}/fhir`, ...(prefetch ? { prefetch } : {}) }));
      expect(res.status).toBe(200);
      expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
      const expected = Object.entries(DECISION).find(([words]) => p.expected.startsWith(words))?.[1];
      expect({ patient: p.name, decision: determinations(res.body as Record<string, unknown>)[0]?.decision }).toEqual({ patient: p.name, decision: expected });
      // The sandbox reads system actions only from response.extension.systemActions: mirrored in the demo.
      expect((res.body as { extension?: { systemActions?: unknown[] } }).extension?.systemActions).toHaveLength(1);
    }
  });
});

describe('four demo patients whose deciding facts live only in notes (SPEC §8)', () => {
  async function signPlain(patientId: string): Promise<Record<string, any>> {
    const order = { resourceType: 'ServiceRequest', id: `plain-${patientId}`, status: 'draft', intent: 'order', subject: { reference: `Patient/${patientId}` }, code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72148' }] } };
    const res = await request(demo.app)
      .post('/cds-services/cohere-lumbar-mri')
      .send(hookRequest({ hook: 'order-sign', patientId, draftOrders: [order as never], fhirServer: `${base}/fhir` }));
    expect(res.status).toBe(200);
    return res.body as Record<string, any>;
  }

  test('a plain lumbar MRI (72148, no reason) signed for every demo patient gives all three decisions', async () => {
    const decisions = new Set<string>();
    for (const p of demo.patients) {
      decisions.add(String(determinations(await signPlain(p.id))[0]?.decision));
    }
    expect([...decisions].sort()).toEqual(['documentation-needed', 'does-not-meet-criteria', 'meets-criteria']);
  });

  test.each([
    ['demo-note-saddle', 'meets-criteria', 'rf.saddle-anesthesia'],
    ['demo-note-pt', 'meets-criteria', 'fact.conservative-care-4wk'],
    ['demo-note-unchanged', 'does-not-meet-criteria', 'fact.new-or-worsening-symptoms'],
  ])('%s signed plainly: %s, decided by a note about %s', async (patientId, decision, fact) => {
    const det = determinations(await signPlain(patientId))[0] as { decision: string; evidence: { fact: string; reference: string }[] };
    expect(det.decision).toBe(decision);
    expect(det.evidence.some((e) => e.fact === fact && e.reference.startsWith('DocumentReference/'))).toBe(true);
  });

  test('after a thorough review of systems, the questionnaire of what is missing holds one question: conservative care', async () => {
    const body = await signPlain('demo-note-ros');
    expect(determinations(body)[0]?.missing).toEqual(['fact.conservative-care-4wk']);
    const link = (body.cards[0].links as { label: string; url: string }[]).find((l) => /still needed/.test(l.label));
    const q = (await request(demo.app).get(new URL(link?.url ?? '').pathname).set('accept', 'application/fhir+json')).body as { item: { item: { linkId: string }[] }[] };
    expect(q.item.flatMap((g) => g.item.map((i) => i.linkId))).toEqual(['fact.conservative-care-4wk']);
  });

  test('a scanned referral letter (PDF) is not read, and the card says so', async () => {
    const body = await signPlain('demo-back-pain-only');
    expect(determinations(body)[0]?.decision).toBe('documentation-needed');
    expect(body.cards[0].detail).toContain('1 note could not be read: 1 in an unsupported format (PDF).');
  });

  test('the page reads each note as the service does: its mentions with what the reader made of them', async () => {
    const res = await request(demo.app).get('/demo/api/patients/demo-note-ros/notes');
    const marks = (res.body.notes[0].mentions as { set: string; mark: string }[]).map((m) => `${m.set}:${m.mark}`);
    expect(marks).toEqual(expect.arrayContaining(['rf.saddle-anesthesia:absent', 'rf.anal-sphincter-laxity:absent', 'fact.back-symptoms:affirmed']));
  });
});

describe('the demo FHIR server answers what the CDS Hooks sandbox asks', () => {
  test('a CapabilityStatement at /metadata', async () => {
    const res = await request(demo.app).get('/fhir/metadata');
    expect(res.body.resourceType).toBe('CapabilityStatement');
  });
  test('a Patient read, a GET search and a POST _search', async () => {
    const id = demo.patients[0]?.id ?? '';
    expect((await request(demo.app).get(`/fhir/Patient/${id}`)).body.id).toBe(id);
    const get = await request(demo.app).get(`/fhir/Condition?patient=${id}`);
    const post = await request(demo.app).post('/fhir/Condition/_search').type('form').send({ patient: id });
    expect(get.body.total).toBeGreaterThan(0);
    expect(post.body.total).toBe(get.body.total);
  });
  test('CORS preflights from the sandbox origin are answered', async () => {
    const res = await request(demo.app).options('/fhir/Condition').set('origin', 'https://sandbox.cds-hooks.org').set('access-control-request-method', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('the official CDS Hooks sandbox, replayed against the demo', () => {
  const captured = (file: string): Record<string, any> =>
    (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'captured-requests', file), 'utf8')) as { body: Record<string, any> }).body;

  test("its PAMA screen's order-sign for a lumbar MRI gets a card and mirrored coverage information", async () => {
    const body = captured('cds-hooks-sandbox-08-lumbar-mri-order-sign-order-sign.json');
    body.fhirServer = `${base}/fhir`;
    const res = await request(demo.app).post('/cds-services/cohere-lumbar-mri').set('origin', 'https://sandbox.cds-hooks.org').send(body);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.extension.systemActions[0].resource.extension[0].url).toBe('http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information');
    expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  });

  test('its first order-select, with an empty coding, gets no card', async () => {
    const body = captured('cds-hooks-sandbox-02-lumbar-mri-order-select-order-select.json');
    body.fhirServer = `${base}/fhir`;
    const res = await request(demo.app).post('/cds-services/cohere-lumbar-mri').send(body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });
});
