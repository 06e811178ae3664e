import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import type { LogFields, Logger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import type { InvocationSummary, RecordStore } from '../../src/store/record-store.js';
import { responseProblems } from '../support/conformance.js';
import { hookRequest, type DiscoveredService } from '../support/ehr.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { prefetchOf } from '../support/prefetch.js';
import { loadScenarios, type Scenario } from '../support/scenarios.js';
import { testApp } from '../support/service.js';
import { POSTGRES_URL } from '../support/store-engines.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testStore, testStoreConfig } from '../support/test-store.js';

/**
 * Issue #13 through the service itself: every hook call recorded exactly as answered, the audit API mounted
 * behind its own tokens, feedback and questionnaires in the store, a jti accepted once across replicas, and
 * what happens while PostgreSQL is away. Replicas here are two apps in this process on one database; the
 * two-process test is test/store/replicas.test.ts.
 */
const BASE = 'http://necessity.test';
const REVIEWER = randomBytes(24).toString('base64url');
const scenarios = loadScenarios();
type Json = Record<string, any>;

let ehr: EhrIdentity;
let config: Config;
let app: Express;
const store = testStore();

beforeAll(async () => {
  ehr = await startEhrIdentity();
  config = loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku }]), CDS_PUBLIC_URL: BASE, CDS_REVIEWER_TOKENS: REVIEWER });
  app = testApp(config);
  services = ((await request(app).get('/cds-services').set('authorization', `Bearer ${await ehr.sign(`${BASE}/cds-services`)}`)).body as { services: DiscoveredService[] }).services;
});
afterAll(async () => {
  await ehr.close();
});

let services: DiscoveredService[] = [];
const serviceFor = (hook: string): string => services.find((s) => s.hook === hook)?.id ?? 'cohere-lumbar-mri';

/** Signs a scenario as the EHR: its record in prefetch, a fresh client JWT. */
async function sign(on: Express, s: Scenario, jwt?: string): Promise<{ status: number; text: string; body: Json; hookInstance: string }> {
  const path = `/cds-services/${serviceFor(s.hook)}`;
  const body = hookRequest({ hook: s.hook, patientId: s.patient.id ?? '', draftOrders: s.draftOrders, prefetch: prefetchOf(s.patient, s.resources) });
  const res = await request(on).post(path).set('authorization', `Bearer ${jwt ?? (await ehr.sign(`${BASE}${path}`))}`).send(body);
  return { status: res.status, text: res.text, body: res.body as Json, hookInstance: String(body.hookInstance) };
}

const assertionIds = (body: Json): string[] =>
  ((body.systemActions ?? []) as Json[]).flatMap((a) =>
    ((a.resource?.extension ?? []) as Json[]).flatMap((e) => ((e.extension ?? []) as Json[]).filter((p) => p.url === 'coverage-assertion-id').map((p) => String(p.valueString))),
  );

const audit = (on: Express, path: string) => request(on).get(path).set('authorization', `Bearer ${REVIEWER}`);

/** Every call the store holds, newest first, through the port's own paging. */
async function allCalls(s: RecordStore = store): Promise<InvocationSummary[]> {
  const out: InvocationSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.listInvocations({ limit: 200, ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  return out;
}

describe('every hook call is recorded, and a reviewer gets back exactly what was answered', () => {
  test('each public scenario signed over HTTP: one call recorded per signing, and each assertion id opens the response byte for byte', async () => {
    const before = (await allCalls()).length;
    const signed: { text: string; body: Json; hookInstance: string }[] = [];
    for (const s of scenarios) {
      const res = await sign(app, s);
      expect(res.status).toBe(200);
      expect(responseProblems(res.body)).toEqual([]);
      signed.push(res);
    }
    const calls = await allCalls();
    expect(calls.length - before).toBe(scenarios.length);
    const byInstance = new Map(calls.map((c) => [c.hookInstance, c]));
    let opened = 0;
    for (const res of signed) {
      const call = byInstance.get(res.hookInstance);
      expect(call).toMatchObject({ clientIss: ehr.iss, policy: { id: 'cohere-ma-mri-lumbar-spine', version: '1.1' } });
      for (const id of assertionIds(res.body)) {
        const found = await audit(app, `/audit/assertions/${id}`);
        expect(found.status).toBe(200);
        // The response as sent: the same JSON text, key order included.
        expect(JSON.stringify((found.body as Json).response)).toBe(res.text);
        expect((found.body as Json).invocation.hookInstance).toBe(res.hookInstance);
        expect((found.body as Json).determination.coverageAssertionId).toBe(id);
        opened++;
      }
    }
    // Every order-sign scenario with a reviewed coverage carries an assertion; order-select ones carry none.
    expect(opened).toBeGreaterThan(15);
  });

  test('the audit API refuses a caller without the reviewer token, and a CDS client’s valid JWT, with 401', async () => {
    const none = await request(app).get('/audit/invocations');
    expect(none.status).toBe(401);
    expect((none.body as Json).issue[0].details.coding[0].code).toBe('REVIEWER_UNAUTHORIZED');
    const jwt = await request(app).get('/audit/invocations').set('authorization', `Bearer ${await ehr.sign(`${BASE}/audit/invocations`)}`);
    expect(jwt.status).toBe(401);
  });

  test('feedback on a card is kept once however often it is sent, and shows beside its assertion', async () => {
    const s = scenarios.find((x) => x.id === 'pub-10') as Scenario;
    const res = await sign(app, s);
    const card = String(res.body.cards[0].uuid);
    const path = `/cds-services/${serviceFor('order-sign')}/feedback`;
    const item = { card, outcome: 'overridden', overrideReason: { reason: { code: 'patient-declined', system: 'http://example.org' }, userComment: 'will call back' }, outcomeTimestamp: '2026-11-23T10:00:00Z' };
    for (let i = 0; i < 3; i++) {
      const fb = await request(app).post(path).set('authorization', `Bearer ${await ehr.sign(`${BASE}${path}`)}`).send({ feedback: [item] });
      expect(fb.status).toBe(200);
    }
    const found = await audit(app, `/audit/assertions/${assertionIds(res.body)[0] ?? ''}`);
    expect((found.body as Json).feedback).toEqual([
      expect.objectContaining({ cardUuid: card, outcome: 'overridden', outcomeAt: '2026-11-23T10:00:00.000Z', overrideReason: { code: 'patient-declined', system: 'http://example.org' } }),
    ]);
  });

  test('feedback whose outcomeTimestamp is not an instant is refused naming it', async () => {
    const path = `/cds-services/${serviceFor('order-sign')}/feedback`;
    const fb = await request(app)
      .post(path)
      .set('authorization', `Bearer ${await ehr.sign(`${BASE}${path}`)}`)
      .send({ feedback: [{ card: 'c1', outcome: 'overridden', outcomeTimestamp: '2026-13-45T99:00:00Z' }] });
    expect(fb.status).toBe(400);
    expect((fb.body as Json).issue[0].expression).toEqual(['feedback.0.outcomeTimestamp']);
  });

  test('a reviewer paging while orders are signed sees each earlier call once, none skipped, none twice', async () => {
    const earlier = new Set((await allCalls()).map((c) => c.id));
    const meets = scenarios.find((x) => x.id === 'pub-01') as Scenario;
    const signing = (async () => {
      for (let i = 0; i < 15; i++) {
        expect((await sign(app, meets)).status).toBe(200);
      }
    })();
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await audit(app, `/audit/invocations?limit=4${next !== undefined ? `&cursor=${next}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...((page.body as Json).items as Json[]).map((c) => String(c.id)));
      next = (page.body as Json).next as string | undefined;
    } while (next !== undefined);
    await signing;
    expect(new Set(seen).size).toBe(seen.length);
    expect([...earlier].filter((id) => !seen.includes(id))).toEqual([]);
  });
});

describe('two replicas on one database', () => {
  let replica: Express;
  beforeAll(() => {
    replica = testApp(config);
  });

  test('a client JWT accepted by one replica is refused (401) by the other', async () => {
    const s = scenarios.find((x) => x.id === 'pub-01') as Scenario;
    const jwt = await ehr.sign(`${BASE}/cds-services/${serviceFor('order-sign')}`);
    expect((await sign(app, s, jwt)).status).toBe(200);
    expect((await sign(replica, s, jwt)).status).toBe(401);
    expect((await sign(app, s, jwt)).status).toBe(401);
  });

  test('a questionnaire a card of one replica links to is served by the other, for the EHR with the record and for a browser without', async () => {
    const s = scenarios.find((x) => x.id === 'pub-10') as Scenario;
    const res = await sign(app, s);
    const links = (res.body.cards[0].links as Json[]).filter((l) => /Questionnaire\//.test(String(l.url)));
    expect(links).toHaveLength(2);
    for (const link of links) {
      const path = new URL(String(link.url)).pathname;
      const anyone = await request(replica).get(path).set('accept', 'application/fhir+json');
      expect(anyone.status).toBe(200);
      expect(JSON.parse(anyone.text)).toMatchObject({ resourceType: 'Questionnaire', url: link.url });
      expect(anyone.text).not.toContain('On record');
      const ehrView = await request(replica).get(path).set('accept', 'application/fhir+json').set('authorization', `Bearer ${await ehr.sign(`${BASE}${path}`)}`);
      expect(ehrView.status).toBe(200);
    }
    const missing = (res.body.cards[0].extension['necessity.determination'].missing as string[]).slice().sort();
    const q = JSON.parse((await request(replica).get(new URL(String(links[0]?.url)).pathname).set('accept', 'application/fhir+json')).text) as Json;
    const asked = (q.item as Json[]).flatMap((g) => (g.item as Json[]).map((i) => String(i.linkId))).sort();
    expect(asked).toEqual(missing);
  });
});

describe('while PostgreSQL cannot be reached (cut by a proxy the test controls)', () => {
  let proxy: TcpProxy;
  let cut: RecordStore;
  let degraded: Express;
  const lines: { fields: LogFields; msg: string }[] = [];
  const logger: Logger = {
    info: (fields, msg) => lines.push({ fields, msg }),
    warn: (fields, msg) => lines.push({ fields, msg }),
    error: (fields, msg) => lines.push({ fields, msg }),
  };

  beforeAll(async () => {
    await store.health(); // creates the file's schema and tables
    proxy = await TcpProxy.start(Number(new URL(POSTGRES_URL).port || 5432));
    const url = new URL(POSTGRES_URL);
    url.port = String(proxy.port);
    cut = await createStore(testStoreConfig({ writeTimeoutMs: 250 }, url.toString()), logger, { schema: store.schema, connectTimeoutMs: 500, retryInitialMs: 50, retryMaxMs: 200 });
    degraded = testApp(config, logger, cut);
  });
  afterAll(async () => {
    await proxy.resume().catch(() => undefined);
    await cut.close(5_000);
    await proxy.stop();
  });

  test('signings are answered without waiting for the database, /readyz says degraded with the queue, and every record is written when it returns', async () => {
    const s = scenarios.find((x) => x.id === 'pub-10') as Scenario;
    await proxy.stop();
    const answered: { hookInstance: string; body: Json }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await sign(degraded, s);
      // The client's jti could not be claimed in the store: this replica decided alone (and logs it).
      expect(res.status).toBe(200);
      answered.push(res);
    }
    expect(lines.filter((l) => l.msg === 'hook answered').map((l) => l.fields.record)).toEqual(expect.arrayContaining(['queued']));
    expect(lines.some((l) => l.fields.event === 'jti-unshared')).toBe(true);
    const ready = await request(degraded).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', queued: 5, reason: 'unreachable' });

    // The cards link questionnaires this replica serves from memory until the store takes them.
    const link = new URL(String((answered[0]?.body.cards[0].links as Json[])[0]?.url)).pathname;
    expect((await request(degraded).get(link).set('accept', 'application/fhir+json')).status).toBe(200);
    // What needs the database says so: feedback and the audit API answer 503.
    const fbPath = `/cds-services/${serviceFor('order-sign')}/feedback`;
    const fb = await request(degraded)
      .post(fbPath)
      .set('authorization', `Bearer ${await ehr.sign(`${BASE}${fbPath}`)}`)
      .send({ feedback: [{ card: String(answered[0]?.body.cards[0].uuid), outcome: 'overridden', outcomeTimestamp: '2026-11-23T10:00:00Z' }] });
    expect(fb.status).toBe(503);
    expect((await audit(degraded, '/audit/invocations')).status).toBe(503);
    // Nothing reached the database while it was away.
    const recorded = new Set((await allCalls()).map((c) => c.hookInstance));
    expect(answered.filter((a) => recorded.has(a.hookInstance))).toEqual([]);

    await proxy.resume();
    expect(await cut.flush(10_000)).toEqual({ remaining: 0 });
    const after = new Set((await allCalls()).map((c) => c.hookInstance));
    expect(answered.filter((a) => !after.has(a.hookInstance))).toEqual([]);
    expect((await request(degraded).get('/readyz')).body).toMatchObject({ status: 'ready', queued: 0 });
    // The questionnaire kept in memory reaches the store, and so the other replica (retried every 5 s).
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await request(app).get(link).set('accept', 'application/fhir+json')).status;
      if (status !== 200) {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(status).toBe(200);
  }, 60_000);
});
