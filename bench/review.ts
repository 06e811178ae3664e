// npm run bench:review — issue #14's scale target: with 100,000 recorded determinations, every dashboard
// endpoint answers in under 500 ms and the /review page's first view renders in under 2 s. For each engine
// (PostgreSQL at TEST_DATABASE_URL or the test default, PGlite on disk): fill REVIEW_BENCH_ROWS determinations
// over the last 90 days through the store (with feedback, FHIR failures, unread notes, two order codes), then
// time every endpoint over HTTP for the page's default period (the last 30 days) and for all 90 days, then the
// page in Debian's Chromium: navigation to the sign-in form, sign-in to the first chart drawn, sign-in to every
// chart and the table drawn.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { Secret, loadConfig, type StoreConfig } from '../src/config.js';
import type { Decision } from '../src/engine/decide.js';
import { errorHandler } from '../src/http/app.js';
import { silentLogger } from '../src/logger.js';
import { auditRouter } from '../src/review/audit-routes.js';
import { reviewPage } from '../src/review/review-page.js';
import { createStore } from '../src/store/create-store.js';
import type { DeterminationRecord, FeedbackRecord, RecordStore } from '../src/store/record-store.js';
import { signing } from '../test/support/records.js';
import { projectVocabulary } from '../test/support/vocabulary.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.REVIEW_BENCH_ROWS ?? 100_000);
const ROUNDS = Number(process.env.REVIEW_BENCH_ROUNDS ?? 5);
const ENGINES = (process.env.REVIEW_BENCH_ENGINES ?? 'postgres,pglite').split(',');
const DAY_MS = 86_400_000;
const TOKEN = randomBytes(24).toString('base64url');
const DECISIONS: readonly Decision[] = ['meets-criteria', 'meets-criteria', 'meets-criteria', 'meets-criteria', 'meets-criteria', 'meets-criteria', 'documentation-needed', 'documentation-needed', 'documentation-needed', 'does-not-meet-criteria'];
const REASONS = ['documented-elsewhere', 'urgent-clinical-need', 'will-request-review'];

const f0 = (x: number): string => x.toFixed(0);
const f1 = (x: number): string => x.toFixed(1);
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

interface Engine {
  readonly name: string;
  readonly store: RecordStore;
  /** After the bulk load: what the engine's housekeeping does before a reviewer looks (vacuum, statistics). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

async function postgres(): Promise<Engine> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const config: StoreConfig = { databaseUrl: new Secret(PG_URL), dataDir: '/unused', retentionDays: 3650, queueMax: 1_000_000, writeTimeoutMs: 60_000 };
  const store = await createStore(config, silentLogger, { schema });
  return {
    name: 'PostgreSQL',
    store,
    // Autovacuum does this on its own within a minute of a bulk load; done here so the run does not depend on its timing.
    settle: async () => {
      await admin.query(`vacuum (analyze) ${schema}.invocation, ${schema}.determination, ${schema}.feedback`);
    },
    dispose: async () => {
      await store.close();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

async function pglite(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'necessity-review-bench-'));
  const store = await createStore({ dataDir: dir, retentionDays: 3650, queueMax: 1_000_000, writeTimeoutMs: 60_000 }, silentLogger);
  return {
    name: 'PGlite (on disk)',
    store,
    // The store's periodic cleanup vacuums the embedded database (it has no autovacuum).
    settle: async () => {
      await store.cleanup(Date.now(), 3650);
    },
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ROWS calls of one determination each over the 90 days up to now, through the write queue, and their feedback. */
async function fill(store: RecordStore, now: number): Promise<{ seconds: number; feedback: number }> {
  const start = performance.now();
  const t0 = now - 90 * DAY_MS;
  let pending: Promise<unknown>[] = [];
  let feedback: FeedbackRecord[] = [];
  let feedbackCount = 0;
  for (let i = 0; i < ROWS; i++) {
    const decision = DECISIONS[i % 10] ?? 'meets-criteria';
    const receivedAt = t0 + Math.floor((i / ROWS) * 90 * DAY_MS);
    const record = signing(decision, { receivedAt, patientId: `bench-${i}`, unreadable: i % 50 === 7 ? ['Condition:timeout'] : i % 97 === 3 ? ['DocumentReference:server-error'] : [] });
    const d = record.determinations[0] as DeterminationRecord;
    const determination: DeterminationRecord = i % 10 === 1 ? { ...d, orderCode: 'http://www.ama-assn.org/go/cpt|72158' } : d;
    pending.push(store.recordInvocation({ ...record, determinations: [determination], durationMs: 10 + ((i * 7919) % 400) / 10 }));
    if (i % 2 === 0 && determination.cardUuid !== undefined) {
      const overridden = decision !== 'meets-criteria' && i % 6 === 0;
      feedback.push({
        service: record.service,
        cardUuid: determination.cardUuid,
        outcome: overridden ? 'overridden' : 'accepted',
        outcomeAt: receivedAt + 30_000,
        receivedAt: receivedAt + 30_500,
        acceptedSuggestions: [],
        ...(overridden ? { overrideReason: { code: REASONS[i % 3] as string, system: 'http://necessity.example.org/fhir/CodeSystem/override-reason' } } : {}),
      });
    }
    if (pending.length >= 2_000) {
      await Promise.all(pending);
      pending = [];
      await store.flush(600_000);
      feedbackCount += await store.recordFeedback(feedback);
      feedback = [];
    }
  }
  await Promise.all(pending);
  await store.flush(600_000);
  feedbackCount += await store.recordFeedback(feedback);
  return { seconds: (performance.now() - start) / 1000, feedback: feedbackCount };
}

const ENDPOINTS = [
  'summary/decisions-per-day',
  'summary/order-codes',
  'summary/fact-sources',
  'summary/missing-facts',
  'summary/feedback',
  'summary/override-reasons',
  'summary/overrides-by-criterion',
  'summary/fhir-failures',
  'summary/hook-durations',
  'summary/notes-unread',
  'determinations',
];

async function serve(store: RecordStore): Promise<{ server: Server; base: string }> {
  const app = express();
  const reviewer = loadConfig({ CDS_REVIEWER_TOKENS: TOKEN }).reviewer;
  app.use('/audit', auditRouter({ store, reviewer, logger: silentLogger, vocabulary: projectVocabulary() }), errorHandler(silentLogger));
  app.use('/review', reviewPage(), errorHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function timeGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
  await res.arrayBuffer();
  if (!res.ok) {
    throw new Error(`${url}: HTTP ${res.status}`);
  }
  return performance.now() - t;
}

async function endpoints(engine: string, base: string, now: number): Promise<string[]> {
  const rows: string[] = [];
  const periods: [string, string][] = [
    ['last 30 days (default)', ''],
    ['all 90 days', `?since=${new Date(now - 90 * DAY_MS).toISOString()}&until=${new Date(now + 1000).toISOString()}`],
    ['90 days, one order code', `?since=${new Date(now - 90 * DAY_MS).toISOString()}&until=${new Date(now + 1000).toISOString()}&orderCode=${encodeURIComponent('http://www.ama-assn.org/go/cpt|72158')}`],
  ];
  for (const [label, query] of periods) {
    for (const path of ENDPOINTS) {
      const url = `${base}/audit/${path}${query}`;
      await timeGet(url);
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        times.push(await timeGet(url));
      }
      rows.push(`| ${engine} | ${label} | /audit/${path} | ${f1(median(times))} | ${f1(Math.max(...times))} |`);
    }
  }
  // The whole period as CSV (streamed a page of 1,000 at a time): not an aggregation, shown for scale.
  const t = performance.now();
  const csv = await fetch(`${base}/audit/determinations?format=csv`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const lines = (await csv.text()).split('\r\n').length - 2;
  rows.push(`| ${engine} | last 30 days (default) | /audit/determinations?format=csv (${lines} lines) | ${f1(performance.now() - t)} | |`);
  return rows;
}

async function firstView(engine: string, base: string): Promise<string[]> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const nav: number[] = [];
  const first: number[] = [];
  const all: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const t0 = performance.now();
      await page.goto(`${base}/review`);
      await page.getByLabel('Reviewer token').waitFor();
      nav.push(performance.now() - t0);
      await page.getByLabel('Reviewer token').fill(TOKEN);
      const t1 = performance.now();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('figure[data-rendered="true"]').first().waitFor({ timeout: 30_000 });
      first.push(performance.now() - t1);
      await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 30_000 });
      all.push(performance.now() - t1);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return [
    `| ${engine} | navigation → sign-in form shown | ${f0(median(nav))} | ${f0(Math.max(...nav))} |`,
    `| ${engine} | sign-in → first chart drawn | ${f0(median(first))} | ${f0(Math.max(...first))} |`,
    `| ${engine} | sign-in → all 9 charts and the table drawn | ${f0(median(all))} | ${f0(Math.max(...all))} |`,
    `| ${engine} | navigation + sign-in → everything drawn (sum of medians) | ${f0(median(nav) + median(all))} | |`,
  ];
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`# Reviewer dashboard benchmark\n\n${new Date().toISOString()} — ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`command: npm run bench:review — ${ROWS} determinations over 90 days per engine; median and worst of ${ROUNDS} after one warm-up\n`);
  const fills: string[] = [];
  const api: string[] = [];
  const page: string[] = [];
  for (const name of ENGINES) {
    const engine = name === 'postgres' ? await postgres() : await pglite();
    const now = Date.now();
    try {
      const { seconds, feedback } = await fill(engine.store, now);
      const t = performance.now();
      await engine.settle();
      fills.push(`| ${engine.name} | ${ROWS} | ${feedback} | ${f1(seconds)} s | ${f1((performance.now() - t) / 1000)} s |`);
      const { server, base } = await serve(engine.store);
      try {
        api.push(...(await endpoints(engine.name, base, Date.now())));
        page.push(...(await firstView(engine.name, base)));
      } finally {
        server.closeAllConnections();
        server.close();
      }
    } finally {
      await engine.dispose();
    }
  }
  console.log('## Fill\n\n| engine | determinations | feedback items | time | vacuum + analyze after |\n| --- | ---: | ---: | ---: | ---: |');
  console.log(fills.join('\n'));
  console.log('\n## Endpoints over HTTP (target: every aggregation under 500 ms)\n\n| engine | period | endpoint | median ms | worst ms |\n| --- | --- | --- | ---: | ---: |');
  console.log(api.join('\n'));
  console.log('\n## The page in Chromium (target: first view under 2 s)\n\n| engine | step | median ms | worst ms |\n| --- | --- | ---: | ---: |');
  console.log(page.join('\n'));
}

await main();
process.exit(0);
