// Measures the two engine candidates of issue #13 on the real record shape, both engines each:
//   (a) Kysely: PostgresDialect over pg for PostgreSQL, the in-repo PGlite dialect (direct calls) for PGlite
//   (b) one client (pg) for both: PostgreSQL directly, PGlite behind @electric-sql/pglite-socket
// Both run the project's own SqlRecordStore (same SQL, same group-commit queue); only the way to the
// engine differs. On PostgreSQL (a) and (b) are the same path (pg), so it is measured once.
//
//   npm run build && npx tsc -p tsconfig.bench.json
//   (cd bench/store-candidates && npm install --no-save --no-package-lock) && node bench/store-candidates/run.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist');
const { createStore } = await import(join(dist, 'src', 'store', 'create-store.js'));
const { Secret } = await import(join(dist, 'src', 'config.js'));
const { signing } = await import(join(dist, 'test', 'support', 'records.js'));
const require = createRequire(import.meta.url);
const pg = require('pg');
const { PGlite } = await import('@electric-sql/pglite');
const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SEQ = Number(process.env.SEQ ?? 300);
const BURSTS = Number(process.env.BURSTS ?? 40);
const silent = { info() {}, warn() {}, error() {} };
const decisions = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'];
let n = 0;
const next = () => signing(decisions[n++ % 3], { receivedAt: Date.now() });

function pct(list, p) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (x) => x.toFixed(2);

async function measure(name, store) {
  for (let i = 0; i < 30; i++) await store.recordInvocation(next()); // warm-up
  const seq = [];
  let t0 = performance.now();
  for (let i = 0; i < SEQ; i++) {
    const t = performance.now();
    const o = await store.recordInvocation(next());
    if (o.state !== 'durable') throw new Error(`not durable: ${o.state}`);
    seq.push(performance.now() - t);
  }
  const seqRate = SEQ / ((performance.now() - t0) / 1000);
  const burst = [];
  t0 = performance.now();
  for (let r = 0; r < BURSTS; r++) {
    const t = performance.now();
    const outs = await Promise.all(Array.from({ length: 16 }, () => store.recordInvocation(next())));
    if (outs.some((o) => o.state !== 'durable')) throw new Error('burst not durable');
    burst.push(performance.now() - t);
  }
  const burstRate = (BURSTS * 16) / ((performance.now() - t0) / 1000);
  const row = `| ${name} | ${seqRate.toFixed(0)} | ${ms(pct(seq, 50))} | ${ms(pct(seq, 99))} | ${burstRate.toFixed(0)} | ${ms(pct(burst, 50))} | ${ms(pct(burst, 99))} |`;
  console.log(row);
  return row;
}

const config = (url) => ({ ...(url ? { databaseUrl: new Secret(url) } : {}), dataDir: '/unused', retentionDays: 3650, queueMax: 10000, writeTimeoutMs: 60000 });

async function freshSchema(url) {
  const schema = `bench_${Math.random().toString(16).slice(2, 10)}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  return schema;
}
async function dropSchema(url, schema) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`drop schema ${schema} cascade`);
  await c.end();
}

console.log(`node ${process.version}; ${SEQ} sequential records, then ${BURSTS} bursts of 16 concurrent records`);
console.log('| engine and way | sequential inserts/s | p50 ms | p99 ms | burst inserts/s | burst p50 ms | burst p99 ms |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');

// PostgreSQL: pg through Kysely's PostgresDialect, candidates (a) and (b) alike.
{
  const schema = await freshSchema(PG_URL);
  const store = await createStore(config(PG_URL), silent, { schema });
  await measure('PostgreSQL 15, pg pool (a = b)', store);
  await store.close();
  await dropSchema(PG_URL, schema);
}
// PGlite: (a) and (b) in memory, alternated ROUNDS times so that machine noise falls on both alike; then
// (a) on disk once, as the service runs it.
async function pgliteDirect(where) {
  const dir = mkdtempSync(join(tmpdir(), 'necessity-pglite-'));
  const store = await createStore({ ...config(undefined), dataDir: dir }, silent, where === 'memory' ? { inMemory: true } : {});
  await measure(`PGlite ${where}, (a) Kysely in-repo dialect`, store);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
// (b): pg over TCP to pglite-socket. One connection only: the socket server queues statements, not
// transactions, so a second connection's statement could land inside the first one's transaction.
async function pgliteSocket() {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 54329, maxConnections: 1 });
  await server.start();
  const store = await createStore(config('postgres://postgres@127.0.0.1:54329/postgres'), silent, { poolMax: 1 });
  await measure('PGlite memory, (b) pg over pglite-socket', store);
  await store.close();
  await server.stop();
  await db.close();
}
const ROUNDS = Number(process.env.ROUNDS ?? 3);
for (let r = 0; r < ROUNDS; r++) {
  await pgliteDirect('memory');
  await pgliteSocket();
}
await pgliteDirect('disk');
process.exit(0);
