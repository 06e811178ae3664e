// npm run bench:store — the record store on both engines (issue #13): insert latency (p50/p99) one call at a
// time and for bursts of concurrent calls, the store's size per 1,000 determinations, and the reviewer
// dashboard's aggregations (issue #14) over STORE_BENCH_ROWS determinations (default 100,000).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { Secret, type StoreConfig } from '../src/config.js';
import type { Decision } from '../src/engine/decide.js';
import { silentLogger } from '../src/logger.js';
import { createStore } from '../src/store/create-store.js';
import type { RecordStore } from '../src/store/record-store.js';
import { signing } from '../test/support/records.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SEQUENTIAL = Number(process.env.STORE_BENCH_SEQUENTIAL ?? 500);
const BURSTS = Number(process.env.STORE_BENCH_BURSTS ?? 50);
const ROWS = Number(process.env.STORE_BENCH_ROWS ?? 100_000);
const DECISIONS: readonly Decision[] = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'];
const DAY_MS = 86_400_000;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const f2 = (x: number): string => x.toFixed(2);

interface Engine {
  readonly name: string;
  open(): Promise<RecordStore>;
  /** Statements for the size and aggregation measurements, on the store's schema. */
  query<T>(text: string): Promise<T[]>;
  dispose(): Promise<void>;
}

async function postgresEngine(): Promise<Engine> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const config: StoreConfig = { databaseUrl: new Secret(PG_URL), dataDir: '/unused', retentionDays: 3650, queueMax: 1_000_000, writeTimeoutMs: 60_000 };
  return {
    name: 'PostgreSQL',
    open: () => createStore(config, silentLogger, { schema }),
    query: async <T>(text: string) => (await admin.query(text)).rows as T[],
    dispose: async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

async function pgliteEngine(): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'necessity-bench-'));
  const config: StoreConfig = { dataDir: dir, retentionDays: 3650, queueMax: 1_000_000, writeTimeoutMs: 60_000 };
  let store: RecordStore | undefined;
  return {
    name: 'PGlite (on disk)',
    open: async () => (store = await createStore(config, silentLogger)),
    // The store's own connection: PGlite is one session. Reached through the store's Kysely instance.
    query: async <T>(text: string) => {
      const db = (store as unknown as { db: Kysely<unknown> }).db;
      return (await sql.raw(text).execute(db)).rows as T[];
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function insertLatency(engine: Engine, store: RecordStore): Promise<string> {
  let n = 0;
  const next = (): ReturnType<typeof signing> => signing(DECISIONS[n++ % 3] ?? 'meets-criteria');
  for (let i = 0; i < 50; i++) {
    await store.recordInvocation(next());
  }
  const one: number[] = [];
  let start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    const outcome = await store.recordInvocation(next());
    if (outcome.state !== 'durable') {
      throw new Error(`a record was ${outcome.state}`);
    }
    one.push(performance.now() - t);
  }
  const sequentialRate = SEQUENTIAL / ((performance.now() - start) / 1000);
  const burst: number[] = [];
  const each: number[] = [];
  start = performance.now();
  for (let b = 0; b < BURSTS; b++) {
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        const o = await store.recordInvocation(next());
        each.push(performance.now() - t);
        if (o.state !== 'durable') {
          throw new Error(`a record was ${o.state}`);
        }
      }),
    );
    burst.push(performance.now() - t);
  }
  const burstRate = (BURSTS * 16) / ((performance.now() - start) / 1000);
  return `| ${engine.name} | ${sequentialRate.toFixed(0)} | ${f2(percentile(one, 50))} | ${f2(percentile(one, 99))} | ${burstRate.toFixed(0)} | ${f2(percentile(each, 50))} | ${f2(percentile(each, 99))} |`;
}

/** Fills the store with ROWS calls of one determination each, over 90 days, through the write queue. */
async function fill(store: RecordStore): Promise<number> {
  const start = performance.now();
  const t0 = Date.parse('2026-09-01T00:00:00Z');
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    pending.push(store.recordInvocation(signing(DECISIONS[i % 3] ?? 'meets-criteria', { receivedAt: t0 + Math.floor((i / ROWS) * 90 * DAY_MS) })));
    if (pending.length >= 2_000) {
      await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  await store.flush(600_000);
  return (performance.now() - start) / 1000;
}

/** The dashboard's questions (issue #14), each one statement over indexed columns. */
const AGGREGATIONS: Record<string, string> = {
  'determinations per day by decision and order code': `select date_trunc('day', received_at) as day, decision, order_code, count(*) from determination group by 1, 2, 3 order by 1`,
  'share of determinations by fact source': `select s, count(*) from determination, unnest(fact_sources) as s group by s`,
  'most frequent missing facts (last 30 days)': `select m, count(*) from determination, unnest(missing) as m where received_at >= (select max(received_at) from determination) - interval '30 days' group by m order by 2 desc limit 10`,
  'FHIR failures by resource type and kind': `select split_part(u, ':', 1) as type, split_part(u, ':', 2) as failure, count(*) from invocation, unnest(unreadable) as u group by 1, 2`,
  'p50 / p95 hook duration per day': `select date_trunc('day', received_at) as day, percentile_cont(0.5) within group (order by duration_ms), percentile_cont(0.95) within group (order by duration_ms) from invocation group by 1`,
  'notes not read by reason': `select k, sum(v::int) from determination, jsonb_each_text(notes_unread) as e(k, v) where notes_unread is not null group by k`,
  'recent determinations table (50 newest)': `select d.received_at, d.order_ref, d.decision, d.main_reason, d.coverage_assertion_id from determination d order by d.received_at desc limit 50`,
};

async function aggregations(engine: Engine): Promise<string[]> {
  const rows: string[] = [];
  for (const [name, text] of Object.entries(AGGREGATIONS)) {
    await engine.query(text);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await engine.query(text);
      times.push(performance.now() - t);
    }
    rows.push(`| ${engine.name} | ${name} | ${f2(percentile(times, 50))} |`);
  }
  return rows;
}

async function size(engine: Engine): Promise<string> {
  const [counts] = await engine.query<{ n: string }>(`select count(*) as n from determination`);
  const n = Number(counts?.n ?? 0);
  const tables = await engine.query<{ t: string; bytes: string }>(
    `select c.relname as t, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = current_schema() and c.relkind = 'r' and c.relname in ('invocation', 'determination')`,
  );
  const total = tables.reduce((sum, t) => sum + Number(t.bytes), 0);
  const detail = tables.map((t) => `${t.t} ${((Number(t.bytes) / n) * 1000 / 1_048_576).toFixed(2)} MB`).join(', ');
  return `| ${engine.name} | ${n} | ${((total / n) * 1000 / 1_048_576).toFixed(2)} MB (${detail}) |`;
}

async function main(): Promise<void> {
  console.log(`# Record store benchmark\n\nnode ${process.version}; ${SEQUENTIAL} calls one at a time, ${BURSTS} bursts of 16 concurrent calls; ${ROWS} determinations for size and aggregations.\n`);
  const latency: string[] = [];
  const sizes: string[] = [];
  const aggs: string[] = [];
  const fills: string[] = [];
  for (const make of [postgresEngine, pgliteEngine]) {
    const engine = await make();
    const store = await engine.open();
    try {
      latency.push(await insertLatency(engine, store));
      await engine.query('delete from invocation');
      const seconds = await fill(store);
      fills.push(`| ${engine.name} | ${ROWS} | ${seconds.toFixed(1)} s | ${(ROWS / seconds).toFixed(0)} |`);
      await engine.query('analyze');
      sizes.push(await size(engine));
      aggs.push(...(await aggregations(engine)));
    } finally {
      await store.close();
      await engine.dispose();
    }
  }
  console.log('## Insert latency (a record durable before the hook answers)\n');
  console.log('| engine | one at a time: inserts/s | p50 ms | p99 ms | bursts of 16: inserts/s | p50 ms per call | p99 ms per call |\n| --- | --- | --- | --- | --- | --- | --- |');
  console.log(latency.join('\n'));
  console.log('\n## Bulk fill through the queue (batches of up to 100 calls per statement)\n');
  console.log('| engine | calls | time | calls/s |\n| --- | --- | --- | --- |');
  console.log(fills.join('\n'));
  console.log('\n## Size per 1,000 determinations (calls with one order each, response included, indexes included)\n');
  console.log('| engine | determinations | per 1,000 |\n| --- | --- | --- |');
  console.log(sizes.join('\n'));
  console.log('\n## Dashboard aggregations (median of 3 after one warm-up)\n');
  console.log('| engine | question | ms |\n| --- | --- | --- |');
  console.log(aggs.join('\n'));
}

await main();
process.exit(0);
