import express from 'express';
import request from 'supertest';
import { Secret, loadConfig } from '../../src/config.js';
import { errorHandler } from '../../src/http/app.js';
import type { LogFields, Logger } from '../../src/logger.js';
import { auditRouter } from '../../src/review/audit-routes.js';
import { createStore } from '../../src/store/create-store.js';
import { StoreUnavailableError, type InvocationRecord, type RecordStore } from '../../src/store/record-store.js';
import { assertionIdOf, signing } from '../support/records.js';
import { POSTGRES_URL, TestDatabase } from '../support/store-engines.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { projectVocabulary } from '../support/vocabulary.js';

/**
 * Issue #13 §4 against the real PostgreSQL, reached through a TCP proxy the test cuts and restores. (The
 * embedded PGlite lives in the service's own process: it cannot become unreachable while the service runs.)
 */
describe('when PostgreSQL cannot be reached', () => {
  const database = new TestDatabase('postgres');
  let proxy: TcpProxy;
  let schema: string;
  /** A second store straight on 5432: what a reviewer would find. */
  let direct: RecordStore;
  const lines: { level: string; fields: LogFields; msg: string }[] = [];
  const logger: Logger = {
    info: (fields, msg) => lines.push({ level: 'info', fields, msg }),
    warn: (fields, msg) => lines.push({ level: 'warn', fields, msg }),
    error: (fields, msg) => lines.push({ level: 'error', fields, msg }),
  };

  beforeAll(async () => {
    proxy = await TcpProxy.start(Number(new URL(POSTGRES_URL).port || 5432));
    ({ store: direct, schema } = await database.open());
  });

  afterAll(async () => {
    await proxy.stop();
    await direct.close();
    await database.dispose();
  });

  afterEach(async () => {
    await proxy.resume().catch(() => undefined);
    lines.length = 0;
  });

  /** A store that reaches the database only through the proxy. */
  function throughProxy(queueMax = 100, warnEveryMs = 60_000): Promise<RecordStore> {
    const url = new URL(POSTGRES_URL);
    url.port = String(proxy.port);
    return createStore(
      { databaseUrl: new Secret(url.toString()), dataDir: '/unused', retentionDays: 3650, queueMax, writeTimeoutMs: 500 },
      logger,
      { schema, connectTimeoutMs: 500, retryInitialMs: 20, retryMaxMs: 100, warnEveryMs },
    );
  }

  async function found(record: InvocationRecord): Promise<boolean> {
    return (await direct.getAssertion(assertionIdOf(record)))?.invocation.id === record.id;
  }

  test('the hook’s records wait in the queue, the store says degraded, and they are written when the database returns', async () => {
    const store = await throughProxy();
    try {
      const before = signing('meets-criteria');
      expect(await store.recordInvocation(before)).toEqual({ state: 'durable' });

      await proxy.stop();
      const during = Array.from({ length: 5 }, () => signing('documentation-needed'));
      const outcomes = await Promise.all(during.map((r) => store.recordInvocation(r)));
      expect(outcomes.map((o) => o.state)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
      expect(await store.health()).toEqual({ status: 'degraded', queued: 5, reason: 'unreachable' });
      await expect(store.getAssertion(assertionIdOf(before))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(lines.some((l) => l.fields.event === 'record-write-failed' && l.level === 'warn')).toBe(true);

      await proxy.resume();
      expect(await store.flush(10_000)).toEqual({ remaining: 0 });
      expect(await store.health()).toEqual({ status: 'ok', queued: 0 });
      for (const r of during) {
        expect(await found(r)).toBe(true);
      }
      expect(lines.some((l) => l.fields.event === 'record-queue-recovered')).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('records queued during an outage are flushed when the store closes (graceful shutdown)', async () => {
    const store = await throughProxy();
    await proxy.stop();
    const during = Array.from({ length: 3 }, () => signing('does-not-meet-criteria'));
    expect((await Promise.all(during.map((r) => store.recordInvocation(r)))).every((o) => o.state === 'queued')).toBe(true);
    await proxy.resume();
    expect(await store.close(10_000)).toEqual({ remaining: 0 });
    for (const r of during) {
      expect(await found(r)).toBe(true);
    }
  });

  test('a shutdown while the database is still away reports, and logs, how many records were lost', async () => {
    const store = await throughProxy();
    await proxy.stop();
    await Promise.all([signing('meets-criteria'), signing('meets-criteria')].map((r) => store.recordInvocation(r)));
    expect(await store.close(300)).toEqual({ remaining: 2 });
    expect(lines.find((l) => l.fields.event === 'record-queue-lost')?.fields.queued).toBe(2);
  });

  test('a full queue keeps the records it holds and refuses the newest, counted in a warning', async () => {
    const store = await throughProxy(3);
    try {
      await proxy.stop();
      const during = Array.from({ length: 5 }, () => signing('meets-criteria'));
      const outcomes = [];
      for (const r of during) {
        outcomes.push(await store.recordInvocation(r));
      }
      expect(outcomes.map((o) => o.state)).toEqual(['queued', 'queued', 'queued', 'dropped', 'dropped']);
      const warning = lines.find((l) => l.fields.event === 'record-queue');
      expect(warning?.fields).toMatchObject({ queued: 3, dropped: 1 });
      await proxy.resume();
      expect(await store.flush(10_000)).toEqual({ remaining: 0 });
      expect(await Promise.all(during.map(found))).toEqual([true, true, true, false, false]);
    } finally {
      await store.close();
    }
  });

  test('a warning repeats at its interval while records wait, and stops once they are written', async () => {
    const store = await throughProxy(100, 100);
    try {
      await proxy.stop();
      await store.recordInvocation(signing('meets-criteria'));
      await new Promise((r) => setTimeout(r, 450));
      const waiting = lines.filter((l) => l.fields.event === 'record-queue').length;
      expect(waiting).toBeGreaterThanOrEqual(2);
      await proxy.resume();
      await store.flush(10_000);
      const after = lines.filter((l) => l.fields.event === 'record-queue').length;
      await new Promise((r) => setTimeout(r, 300));
      expect(lines.filter((l) => l.fields.event === 'record-queue').length).toBeLessThanOrEqual(after + 1);
    } finally {
      await store.close();
    }
  });

  test('the audit API answers 503 with an OperationOutcome while the database is away', async () => {
    const store = await throughProxy();
    const token = 'r'.repeat(40);
    const app = express();
    app.use('/audit', auditRouter({ store, reviewer: loadConfig({ CDS_REVIEWER_TOKENS: token }).reviewer, logger, vocabulary: projectVocabulary() }));
    app.use(errorHandler(logger));
    try {
      await proxy.stop();
      const res = await request(app).get('/audit/invocations').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.body.issue[0].details.coding[0].code).toBe('STORE_UNAVAILABLE');
      // The dashboard's figures too: a 503 that says so, never empty charts that look like a quiet month.
      const figures = await request(app).get('/audit/summary/decisions-per-day').set('Authorization', `Bearer ${token}`);
      expect(figures.status).toBe(503);
      expect(figures.body.issue[0].details.coding[0].code).toBe('STORE_UNAVAILABLE');
    } finally {
      await store.close();
    }
  });

  test('no log line carries the database URL', () => {
    expect(JSON.stringify(lines)).not.toContain('postgres://');
  });
});
