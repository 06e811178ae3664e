import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { errorHandler } from '../../src/http/app.js';
import type { LogFields } from '../../src/logger.js';
import { auditRouter } from '../../src/review/audit-routes.js';
import type { InvocationRecord, RecordStore } from '../../src/store/record-store.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { assertionIdOf, signing } from '../support/records.js';
import { ENGINES, TestDatabase } from '../support/store-engines.js';
import { projectVocabulary } from '../support/vocabulary.js';

const REVIEWER = randomBytes(24).toString('base64url');
const OTHER_REVIEWER = randomBytes(24).toString('base64url');

/** The audit router as the service will mount it, with the app's one error handler behind it. */
function auditApp(store: RecordStore, tokens: string, lines: { level: string; fields: LogFields }[] = []): express.Express {
  const logger = {
    info: (fields: LogFields) => lines.push({ level: 'info', fields }),
    warn: (fields: LogFields) => lines.push({ level: 'warn', fields }),
    error: (fields: LogFields) => lines.push({ level: 'error', fields }),
  };
  const config = loadConfig({ CDS_REVIEWER_TOKENS: tokens });
  const app = express();
  app.use('/audit', auditRouter({ store, reviewer: config.reviewer, logger, vocabulary: projectVocabulary() }));
  app.use(errorHandler(logger));
  return app;
}

describe.each(ENGINES)('the reviewers’ audit API over HTTP, on %s', (engine) => {
  const database = new TestDatabase(engine);
  let store: RecordStore;
  let app: express.Express;
  let ehr: EhrIdentity;
  const lines: { level: string; fields: LogFields }[] = [];
  const signed: InvocationRecord[] = [];
  const t0 = Date.parse('2026-11-02T09:00:00Z');

  beforeAll(async () => {
    store = (await database.open()).store;
    app = auditApp(store, `${REVIEWER},${OTHER_REVIEWER}`, lines);
    ehr = await startEhrIdentity();
    for (let i = 0; i < 12; i++) {
      signed.push(signing((['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'] as const)[i % 3] ?? 'meets-criteria', { receivedAt: t0 + i * 60_000 }));
    }
    await Promise.all(signed.map((r) => store.recordInvocation(r)));
  });

  afterAll(async () => {
    await ehr.close();
    await store.close();
    await database.dispose();
  });

  const first = (): InvocationRecord => signed[0] as InvocationRecord;

  test('without a token the record is refused with 401 and an OperationOutcome', async () => {
    const res = await request(app).get(`/audit/assertions/${assertionIdOf(first())}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login', details: { coding: [{ code: 'REVIEWER_UNAUTHORIZED' }] } }] });
  });

  test('a wrong token is refused with 401, and the log says why without the token', async () => {
    const wrong = randomBytes(24).toString('base64url');
    const res = await request(app).get('/audit/invocations').set('Authorization', `Bearer ${wrong}`);
    expect(res.status).toBe(401);
    const refusal = lines.find((l) => l.fields.reason === 'reviewer-token-invalid');
    expect(refusal?.fields.route).toBe('/audit/invocations');
    expect(JSON.stringify(lines)).not.toContain(wrong);
  });

  test('a CDS client’s signed JWT does not open the audit API', async () => {
    const jwt = await ehr.sign('http://127.0.0.1/audit/invocations');
    const res = await request(app).get('/audit/invocations').set('Authorization', `Bearer ${jwt}`);
    expect(res.status).toBe(401);
  });

  test('without any reviewer token configured, every caller is refused', async () => {
    const closed = auditApp(store, '');
    expect((await request(closed).get('/audit/invocations').set('Authorization', 'Bearer ')).status).toBe(401);
    expect((await request(closed).get('/audit/invocations').set('Authorization', `Bearer ${REVIEWER}`)).status).toBe(401);
  });

  test('a reviewer reads the determination for a coverage-assertion-id with the response exactly as it was sent', async () => {
    const record = signed[1] as InvocationRecord;
    const res = await request(app).get(`/audit/assertions/${assertionIdOf(record)}`).set('Authorization', `Bearer ${OTHER_REVIEWER}`);
    expect(res.status).toBe(200);
    // Byte for byte: the recorded body appears in the answer as the service serialised it.
    expect(res.text).toContain(`"response":${JSON.stringify(record.response)}`);
    expect(res.body.determination).toEqual(record.determinations[0]);
    expect(res.body.invocation).toMatchObject({ id: record.id, receivedAt: new Date(record.receivedAt).toISOString(), policy: { id: 'cohere-ma-mri-lumbar-spine', version: '1.1' } });
    expect(res.body.feedback).toEqual([]);
    const access = lines.find((l) => l.fields.event === 'audit-access');
    expect(access?.fields.route).toBe('/audit/assertions/:id');
    expect(access?.fields.reviewer).toMatch(/^[0-9a-f]{8}$/);
  });

  test('an id nobody issued is a 404 OperationOutcome; an id with odd characters is a 400 naming it', async () => {
    const missing = await request(app).get('/audit/assertions/0b5e4b55-0000-4000-8000-000000000000').set('Authorization', `Bearer ${REVIEWER}`);
    expect(missing.status).toBe(404);
    expect(missing.body.issue[0].details.coding[0].code).toBe('ASSERTION_NOT_FOUND');
    const odd = await request(app).get(`/audit/assertions/${encodeURIComponent("x' or 1=1")}`).set('Authorization', `Bearer ${REVIEWER}`);
    expect(odd.status).toBe(400);
    expect(odd.body.issue[0].expression).toEqual(['id']);
  });

  test('a reviewer pages through the calls newest first by following next, each call once', async () => {
    const ids: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const res = await request(app)
        .get('/audit/invocations')
        .query({ since: new Date(t0).toISOString(), until: new Date(t0 + 12 * 60_000).toISOString(), limit: 5, ...(next !== undefined ? { cursor: next } : {}) })
        .set('Authorization', `Bearer ${REVIEWER}`);
      expect(res.status).toBe(200);
      ids.push(...(res.body.items as { id: string }[]).map((i) => i.id));
      next = res.body.next as string | undefined;
      pages++;
    } while (next !== undefined);
    expect(pages).toBe(3);
    expect(ids).toEqual([...signed].reverse().map((r) => r.id));
  });

  test('the list filters by decision and patient, and carries no response bodies', async () => {
    const res = await request(app)
      .get('/audit/invocations')
      .query({ decision: 'does-not-meet-criteria', patient: 'pub-15', since: new Date(t0).toISOString(), limit: 200 })
      .set('Authorization', `Bearer ${REVIEWER}`);
    expect(res.status).toBe(200);
    const expected = signed.filter((r) => r.determinations[0]?.decision === 'does-not-meet-criteria').reverse();
    expect((res.body.items as { id: string }[]).map((i) => i.id)).toEqual(expected.map((r) => r.id));
    expect(res.text).not.toContain('"response"');
  });

  test.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '201' }],
    ['limit', { limit: 'ten' }],
    ['decision', { decision: 'approved' }],
    ['since', { since: 'yesterday' }],
    ['since', { since: '2026-11-30' }],
    ['until', { since: '2026-11-30T00:00:00Z', until: '2026-11-29T00:00:00Z' }],
    ['patient', { patient: 'Patient/pub-01' }],
    ['cursor', { cursor: 'bm90LWEtY3Vyc29y' }],
    ['patientId', { patientId: 'pub-01' }],
  ])('a bad %s parameter is a 400 OperationOutcome naming it', async (field, query) => {
    const res = await request(app).get('/audit/invocations').query(query).set('Authorization', `Bearer ${REVIEWER}`);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual([field]);
  });

  test('a parameter given twice is a 400 naming it', async () => {
    const res = await request(app).get('/audit/invocations?limit=5&limit=6').set('Authorization', `Bearer ${REVIEWER}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['limit']);
  });
});
