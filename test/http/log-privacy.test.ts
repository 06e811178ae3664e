import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import type { Resource } from 'fhir/r4.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { fulfilPrefetch, hookRequest } from '../support/ehr.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { loadScenarios } from '../support/scenarios.js';
import { testApp } from '../support/service.js';

const BASE = 'https://cds.example.org';
const token = `fhir-token-${randomUUID()}`;
// Every patient gets a distinctive name, so that a leak would be found by a plain text search.
const scenarios = loadScenarios().map((s, i) => ({ ...s, patient: { ...s.patient, name: [{ family: `Quillfeather${i}`, given: [`Ysolde${i}`] }] } }));
let fhir: FhirTestServer;
let ehr: EhrIdentity;
let logText = '';
const jwts: string[] = [];

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: scenarios.flatMap((s) => [s.patient as Resource, ...s.resources]) });
  ehr = await startEhrIdentity();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const config = loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku }]), CDS_PUBLIC_URL: BASE, LOG_LEVEL: 'debug' });
  const app = testApp(config, createLogger('debug', sink));
  const signFor = async (path: string): Promise<string> => {
    const jwt = await ehr.sign(`${BASE}${path}`);
    jwts.push(jwt);
    return jwt;
  };
  const services = (await request(app).get('/cds-services').set('authorization', `Bearer ${await signFor('/cds-services')}`)).body.services as { id: string; hook: string; prefetch: Record<string, string> }[];
  for (const mode of ['prefetch', 'fetch'] as const) {
    for (const s of scenarios) {
      const service = services.find((x) => x.hook === s.hook);
      const patientId = s.patient.id ?? '';
      const prefetch = mode === 'prefetch' && service ? await fulfilPrefetch(service.prefetch, { patientId, userId: 'Practitioner/1' }, fhir.baseUrl, token) : undefined;
      const path = `/cds-services/${service?.id ?? ''}`;
      const res = await request(app)
        .post(path)
        .set('authorization', `Bearer ${await signFor(path)}`)
        .send(hookRequest({ hook: s.hook, patientId, draftOrders: s.draftOrders, fhirServer: fhir.baseUrl, token, ...(prefetch ? { prefetch } : {}) }));
      expect(res.status).toBe(200);
    }
  }
  // A refused call and feedback with a free-text comment are logged too.
  await request(app).get('/cds-services').set('authorization', 'Bearer not-a-jwt');
  await request(app)
    .post('/cds-services/cohere-lumbar-mri/feedback')
    .set('authorization', `Bearer ${await signFor('/cds-services/cohere-lumbar-mri/feedback')}`)
    .send({ feedback: [{ card: randomUUID(), outcome: 'overridden', overrideReason: { userComment: `Spoke with Ysolde0 Quillfeather0 about pub-01` }, outcomeTimestamp: new Date().toISOString() }] });
}, 120_000);

afterAll(async () => {
  await fhir.close();
  await ehr.close();
});

describe('the logs of every scenario, in both modes, carry no patient data and no secret', () => {
  test('something was logged for every call', () => {
    expect(logText.split('\n').filter((l) => l.includes('"hook answered"'))).toHaveLength(scenarios.length * 2);
  });
  test('every log line is JSON', () => {
    for (const line of logText.split('\n').filter(Boolean)) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });
  test('no patient name appears', () => {
    expect(logText).not.toMatch(/Quillfeather|Ysolde/);
  });
  test('no patient id and no resource id appears', () => {
    const ids = scenarios.flatMap((s) => [s.patient.id ?? '', ...s.resources.map((r) => r.id ?? ''), ...s.draftOrders.map((o) => o.id ?? '')]).filter(Boolean);
    const leaked = ids.filter((id) => logText.includes(`"${id}"`) || logText.includes(`/${id}`) || logText.includes(`${id}"`));
    expect(leaked).toEqual([]);
  });
  test('neither the FHIR bearer token nor any client JWT appears', () => {
    expect(logText).not.toContain(token);
    for (const jwt of jwts) {
      expect(logText).not.toContain(jwt.split('.')[2] ?? jwt);
    }
  });
  test('no note text appears: not one line of any note, and not one phrase the notes were searched for', () => {
    const texts = scenarios.flatMap((s) =>
      s.resources.flatMap((r) => {
        const data = [
          ...((r as { content?: { attachment?: { data?: string } }[] }).content ?? []).map((c) => c.attachment?.data),
          (r as { data?: string }).data,
        ].filter((d): d is string => typeof d === 'string');
        return [...data.map((d) => Buffer.from(d, 'base64').toString('utf8')), ...(typeof (r as unknown as { conclusion?: unknown }).conclusion === 'string' ? [(r as unknown as { conclusion: string }).conclusion] : [])];
      }),
    );
    expect(texts.length).toBeGreaterThan(20);
    const lines = texts.flatMap((t) => t.split('\n')).map((l) => l.trim()).filter((l) => l.length >= 16);
    expect(lines.filter((l) => logText.includes(l))).toEqual([]);
    expect(logText).not.toMatch(/saddle|numbness|physical therapy|malignancy/i);
  });
  test('the hook line counts the notes it read, by number only', () => {
    const lines = logText.split('\n').filter((l) => l.includes('"hook answered"')).map((l) => JSON.parse(l) as { notesRead?: unknown });
    expect(lines.some((l) => typeof l.notesRead === 'number' && l.notesRead > 0)).toBe(true);
  });
  test('each hook line says hook, hookInstance, decision, duration and FHIR query count', () => {
    const line = JSON.parse(logText.split('\n').find((l) => l.includes('"hook answered"')) ?? '{}') as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['hook', 'hookInstance', 'service', 'decisions', 'durationMs', 'fhirRequests']));
  });
  test('durations are measured on the monotonic timer, to a hundredth of a millisecond, not as whole clock ticks', () => {
    const durations = logText
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { durationMs?: unknown }).durationMs)
      .filter((d): d is number => typeof d === 'number');
    expect(durations.length).toBeGreaterThan(0);
    for (const d of durations) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(Math.round(d * 100) / 100).toBe(d);
    }
    // With whole milliseconds, dozens of sub-millisecond answers would all read 0 or 1.
    expect(durations.some((d) => !Number.isInteger(d))).toBe(true);
  });
});
