import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { errorHandler } from '../../src/http/app.js';
import type { LogFields } from '../../src/logger.js';
import { auditRouter } from '../../src/review/audit-routes.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { CPT_72148, CPT_72158, MIX, dashboardMix, type Mix } from '../support/dashboard-mix.js';
import { startEhrIdentity } from '../support/ehr-identity.js';
import { ENGINES, TestDatabase } from '../support/store-engines.js';
import { projectVocabulary } from '../support/vocabulary.js';

const REVIEWER = randomBytes(24).toString('base64url');
const FIRST_DAY = Date.parse('2026-11-01T00:00:00Z');
/** "Now" for the default period: the end of the mix's tenth day, so the last 30 days hold all of it. */
const NOW = FIRST_DAY + 10 * 86_400_000;

const ENDPOINTS = [
  '/audit/summary/decisions-per-day',
  '/audit/summary/order-codes',
  '/audit/summary/fact-sources',
  '/audit/summary/missing-facts',
  '/audit/summary/feedback',
  '/audit/summary/override-reasons',
  '/audit/summary/overrides-by-criterion',
  '/audit/summary/fhir-failures',
  '/audit/summary/hook-durations',
  '/audit/summary/notes-unread',
  '/audit/determinations',
];

describe.each(ENGINES)('the dashboard’s endpoints under /audit, on %s', (engine) => {
  const database = new TestDatabase(engine);
  const lines: { level: string; fields: LogFields }[] = [];
  let store: RecordStore;
  let app: express.Express;
  let mix: Mix;

  const get = (path: string): request.Test => request(app).get(path).set('Authorization', `Bearer ${REVIEWER}`);

  beforeAll(async () => {
    store = (await database.open()).store;
    mix = dashboardMix(FIRST_DAY);
    await Promise.all(mix.records.map((r) => store.recordInvocation(r)));
    await store.recordFeedback(mix.feedback);
    const logger = {
      info: (fields: LogFields) => lines.push({ level: 'info', fields }),
      warn: (fields: LogFields) => lines.push({ level: 'warn', fields }),
      error: (fields: LogFields) => lines.push({ level: 'error', fields }),
    };
    app = express();
    app.use('/audit', auditRouter({ store, reviewer: loadConfig({ CDS_REVIEWER_TOKENS: REVIEWER }).reviewer, logger, vocabulary: projectVocabulary(), clock: () => NOW }));
    app.use(errorHandler(logger));
  });

  afterAll(async () => {
    await store.close();
    await database.dispose();
  });

  test('every figure is refused without the reviewer credential, and a CDS client’s JWT does not open it', async () => {
    const ehr = await startEhrIdentity();
    try {
      for (const path of [...ENDPOINTS, `/audit/determinations/${mix.records[0]?.id}.0`]) {
        const none = await request(app).get(path);
        expect({ path, status: none.status, code: none.body.issue?.[0]?.details?.coding?.[0]?.code }).toEqual({ path, status: 401, code: 'REVIEWER_UNAUTHORIZED' });
        const jwt = await request(app).get(path).set('Authorization', `Bearer ${await ehr.sign(`http://127.0.0.1${path}`)}`);
        expect({ path, status: jwt.status }).toEqual({ path, status: 401 });
      }
    } finally {
      await ehr.close();
    }
  });

  test('decisions per day: the last 30 days by default, every day listed, the mix’s 60 / 30 / 10 in the totals', async () => {
    const res = await get('/audit/summary/decisions-per-day');
    expect(res.status).toBe(200);
    expect(res.body.period).toEqual({ since: '2026-10-12T00:00:00.000Z', until: '2026-11-11T00:00:00.000Z' });
    expect(res.body.days).toHaveLength(30);
    expect(res.body.days[0]).toEqual({ day: '2026-10-12', 'meets-criteria': 0, 'documentation-needed': 0, 'does-not-meet-criteria': 0, total: 0 });
    expect(res.body.days[20]).toEqual({ day: '2026-11-01', 'meets-criteria': 6, 'documentation-needed': 3, 'does-not-meet-criteria': 1, total: 10 });
    expect(res.body.totals).toEqual({ 'meets-criteria': MIX.meets, 'documentation-needed': MIX.documentationNeeded, 'does-not-meet-criteria': MIX.doesNotMeet, total: MIX.determinations });
  });

  test('an order code narrows every figure; the order codes of the period are listed whatever was chosen', async () => {
    const narrowed = await get(`/audit/summary/decisions-per-day?orderCode=${encodeURIComponent(CPT_72158)}`);
    expect(narrowed.body.totals).toEqual({ 'meets-criteria': MIX.meetsOn72158, 'documentation-needed': 0, 'does-not-meet-criteria': 0, total: MIX.meetsOn72158 });
    expect(narrowed.body.period.orderCode).toBe(CPT_72158);
    const codes = await get(`/audit/summary/order-codes?orderCode=${encodeURIComponent(CPT_72158)}`);
    expect(codes.body.orderCodes).toEqual([
      { orderCode: CPT_72148, 'meets-criteria': 50, 'documentation-needed': 30, 'does-not-meet-criteria': 10, total: 90 },
      { orderCode: CPT_72158, 'meets-criteria': 10, 'documentation-needed': 0, 'does-not-meet-criteria': 0, total: 10 },
    ]);
  });

  test('fact sources: codes in 95 of 100 determinations, notes in 40, answers in 5, with the definition', async () => {
    const res = await get('/audit/summary/fact-sources');
    expect(res.body.definition).toMatch(/counts once for every source present/);
    expect(res.body.determinations).toBe(100);
    expect(res.body.sources.map((s: { label: string; determinations: number; share: number }) => [s.label, s.determinations, s.share])).toEqual([
      ['codes', 95, 0.95],
      ['notes', 40, 0.4],
      ['answers', 5, 0.05],
      ['none', 0, 0],
    ]);
    expect(res.body.combinations.map((c: { label: string; determinations: number }) => [c.label, c.determinations])).toEqual([
      ['codes', 55],
      ['codes + notes', 40],
      ['answers', 5],
    ]);
  });

  test('missing facts, with the policy’s words: 12 of the 30 documentation-needed orders lacked 4 weeks of conservative care', async () => {
    const res = await get('/audit/summary/missing-facts?limit=10');
    expect(res.body.documentationNeeded).toBe(30);
    expect(res.body.facts[0]).toEqual({ fact: 'fact.new-or-worsening-symptoms', words: 'New or worsening symptoms since the most recent imaging', determinations: 18, share: 0.6 });
    expect(res.body.facts).toContainEqual({ fact: 'fact.conservative-care-4wk', words: 'Symptoms persist despite at least 4 weeks of conservative management', determinations: 12, share: 0.4 });
  });

  test('feedback: acceptance and override rates per decision, of the cards shown', async () => {
    const res = await get('/audit/summary/feedback');
    expect(res.body.decisions).toEqual([
      { decision: 'meets-criteria', determinations: 60, accepted: 40, overridden: 0, acceptanceRate: 0.6667, overrideRate: 0 },
      { decision: 'documentation-needed', determinations: 30, accepted: 6, overridden: 5, acceptanceRate: 0.2, overrideRate: 0.1667 },
      { decision: 'does-not-meet-criteria', determinations: 10, accepted: 1, overridden: 2, acceptanceRate: 0.1, overrideRate: 0.2 },
    ]);
    expect(res.body.total).toEqual({ decision: 'all', determinations: 100, accepted: 47, overridden: 7, acceptanceRate: 0.47, overrideRate: 0.07 });
  });

  test('override reasons in the words the card offered them, and overrides per criterion in the policy’s words', async () => {
    const reasons = await get('/audit/summary/override-reasons');
    expect(reasons.body.overrides).toBe(MIX.overrides);
    expect(reasons.body.reasons.map((r: { code: string; display: string; overrides: number }) => [r.code, r.display, r.overrides])).toEqual([
      ['urgent-clinical-need', 'Urgent clinical need: imaging cannot wait', 4],
      ['documented-elsewhere', 'Criteria are documented outside the coded record', 3],
    ]);
    const criteria = await get('/audit/summary/overrides-by-criterion');
    expect(criteria.body.items).toContainEqual({
      kind: 'missing',
      id: 'fact.conservative-care-4wk',
      words: 'Symptoms persist despite at least 4 weeks of conservative management',
      determinations: 12,
      overridden: 5,
      overrideRate: 0.4167,
    });
  });

  test('operations: FHIR failures by type and kind, p50/p95 per day, notes not read by reason', async () => {
    const fhir = await get('/audit/summary/fhir-failures');
    expect(fhir.body).toMatchObject({
      invocations: 100,
      withFailure: 3,
      failures: [
        { resourceType: 'Condition', failure: 'timeout', invocations: 2 },
        { resourceType: 'DocumentReference', failure: 'timeout', invocations: 1 },
      ],
    });
    const durations = await get('/audit/summary/hook-durations');
    expect(durations.body.days).toHaveLength(30);
    expect(durations.body.days[0]).toEqual({ day: '2026-10-12', invocations: 0, p50Ms: null, p95Ms: null });
    expect(durations.body.days[20]).toEqual({ day: '2026-11-01', invocations: 10, p50Ms: 42.5, p95Ms: 62.75 });
    const notes = await get('/audit/summary/notes-unread');
    expect(notes.body).toMatchObject({ notes: 40, reasons: [{ reason: 'unsupported-content-type', notes: 30, determinations: 30 }, { reason: 'timeout', notes: 10, determinations: 5 }] });
  });

  test('each chart’s data as CSV: the same numbers, a header line, a file name with the period', async () => {
    const res = await get('/audit/summary/decisions-per-day?format=csv&since=2026-11-01T00:00:00Z&until=2026-11-03T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="decisions-per-day_2026-11-01_2026-11-02.csv"');
    expect(res.text).toBe('day,meets-criteria,documentation-needed,does-not-meet-criteria,total\r\n2026-11-01,6,3,1,10\r\n2026-11-02,6,3,1,10\r\n');
    const missing = await get('/audit/summary/missing-facts?format=csv');
    expect(missing.text.split('\r\n')[0]).toBe('fact,words,determinations,shareOfDocumentationNeeded');
    expect(missing.text).toContain('fact.conservative-care-4wk,Symptoms persist despite at least 4 weeks of conservative management,12,0.4\r\n');
    for (const path of ENDPOINTS) {
      const csv = await get(`${path}?format=csv`);
      expect({ path, status: csv.status, type: csv.headers['content-type'] }).toEqual({ path, status: 200, type: 'text/csv; charset=utf-8' });
    }
  });

  test('the table: newest first, paged; as CSV the whole period, one line per determination', async () => {
    const first = await get('/audit/determinations?limit=2');
    expect(first.body.items).toHaveLength(2);
    const newest = mix.records[99];
    expect(first.body.items[0]).toMatchObject({
      id: `${newest?.id}.0`,
      receivedAt: new Date(newest?.receivedAt ?? 0).toISOString(),
      order: 'ServiceRequest/pub-15-mri',
      decision: 'does-not-meet-criteria',
      mainReason: 'ind.conservative-failure',
      mainReasonWords: 'symptoms persist after 4 weeks of conservative care',
    });
    const second = await get(`/audit/determinations?limit=2&cursor=${first.body.next}`);
    expect(first.body.items[1].id).toBe(`${mix.records[98]?.id}.0`);
    expect(second.body.items[0].id).toBe(`${mix.records[97]?.id}.0`);
    const overridden = await get('/audit/determinations?decision=documentation-needed&limit=200');
    expect(overridden.body.items.filter((l: { feedback: string[] }) => l.feedback.includes('overridden'))).toHaveLength(5);

    const csv = await get('/audit/determinations?format=csv');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('receivedAt,patientId,order,orderCode,decision,mainReason,mainReasonWords,feedback,coverageAssertionId,id');
    expect(rows).toHaveLength(MIX.determinations + 1);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="determinations_2026-10-12_2026-11-10.csv"');
  });

  test('one determination: the card as sent, its evidence with the note quote, the coverage information and its feedback', async () => {
    // The first documentation-needed order: overridden for urgent clinical need.
    const record = mix.records[6];
    const res = await get(`/audit/determinations/${record?.id}.0`);
    expect(res.status).toBe(200);
    expect(res.body.card.summary).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    expect(res.body.card.uuid).toBe(record?.determinations[0]?.cardUuid);
    expect(res.body.determination.evidence).toContainEqual(expect.objectContaining({ source: 'note', quote: 'low back pain x 10 days', assertion: 'present' }));
    expect(res.body.words['fact.conservative-care-4wk']).toBe('Symptoms persist despite at least 4 weeks of conservative management');
    const parts = res.body.coverageInformation[0].extension.map((e: { url: string }) => e.url);
    expect(parts).toEqual(expect.arrayContaining(['covered', 'pa-needed', 'doc-needed', 'coverage-assertion-id']));
    expect(res.body.feedback).toEqual([
      expect.objectContaining({ outcome: 'overridden', overrideReason: { code: 'urgent-clinical-need', system: expect.any(String) }, overrideReasonDisplay: 'Urgent clinical need: imaging cannot wait' }),
    ]);
    expect(res.body.invocation).toMatchObject({ id: record?.id, patientId: record?.patientId, determinations: 1 });
    // The log names the route, never the id.
    expect(lines.filter((l) => l.fields.event === 'audit-access').map((l) => l.fields.route)).toContain('/audit/determinations/:id');
    expect(JSON.stringify(lines)).not.toContain(record?.id ?? '-');
  });

  test('an unknown determination is a 404; a malformed id, period or parameter is a 400 naming it', async () => {
    const missing = await get(`/audit/determinations/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}.0`);
    expect(missing.status).toBe(404);
    expect(missing.body.issue[0].details.coding[0].code).toBe('DETERMINATION_NOT_FOUND');
    const cases: [string, string][] = [
      ['/audit/determinations/not-an-id', 'id'],
      ['/audit/summary/feedback?since=2026-11-05T00:00:00Z&until=2026-11-01T00:00:00Z', 'until'],
      ['/audit/summary/feedback?since=2026-11-05', 'since'],
      ['/audit/summary/feedback?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'since'],
      ['/audit/summary/feedback?orderCode=72148', 'orderCode'],
      ['/audit/summary/feedback?format=xml', 'format'],
      ['/audit/summary/feedback?limit=5', 'limit'],
      ['/audit/summary/missing-facts?limit=0', 'limit'],
      ['/audit/summary/feedback?since=2026-11-01T00:00:00Z&since=2026-11-02T00:00:00Z', 'since'],
      ['/audit/determinations?decision=approved', 'decision'],
      ['/audit/determinations?limit=201', 'limit'],
      ['/audit/determinations?cursor=eyJ4IjoxfQ', 'cursor'],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect({ path, status: res.status, code: res.body.issue?.[0]?.details?.coding?.[0]?.code, field: res.body.issue?.[0]?.expression?.[0] }).toEqual({ path, status: 400, code: 'INVALID_QUERY', field });
    }
  });
});
