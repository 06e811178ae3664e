// npm run bench: the performance targets of issue #6, measured in one run so the figures are comparable.
// Every server runs in its own process; autocannon drives them from this one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadCardTemplates } from '../src/cds/card-templates.js';
import { loadCoverageCardTemplates } from '../src/cds/coverage-cards.js';
import { loadConfigurationOptions, readConfiguration } from '../src/crd/configuration.js';
import { loadPlans } from '../src/crd/plans.js';
import { assertionForDetermination, coverageAction, type CrdWording } from '../src/cds/crd-response.js';
import { chooseCoverage, coverageEvidence } from '../src/crd/coverage-choice.js';
import { determine } from '../src/cds/determine.js';
import { loadServiceDefinitions, prefetchTemplates } from '../src/cds/discovery.js';
import { requestValidators } from '../src/cds/hook-request.js';
import { buildQuestionnaire } from '../src/cds/questionnaire.js';
import { createOrderHook } from '../src/cds/order-hook.js';
import { CardRenderer } from '../src/cds/render-card.js';
import { extractFacts } from '../src/facts/extract-facts.js';
import { decide } from '../src/engine/decide.js';
import { gatherRecord } from '../src/fhir/data-source.js';
import { fhirKitReader } from '../src/fhir/fhir-reader.js';
import { RecordIndex } from '../src/facts/record-index.js';
import { ClientVerifier } from '../src/http/client-auth.js';
import { loadPolicy } from '../src/policy/load-policy.js';
import { recordOf } from '../test/support/record.js';
import { heavyPatient, largestPatient, orderSign, typicalPatient, withNotes, type BenchPatient } from './fixtures.js';
import { benchDocuments, measureNotesReading, measureNotesToFacts } from './notes-reading.js';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, '..', 'src', 'server.js');
/** The service with a record store that keeps nothing: (b), "the record off" (bench/record-off.ts). */
const RECORD_OFF = join(here, 'record-off.js');
const CEILING = join(here, 'ceiling.js');
const REPLAY = join(here, 'replay.js');
const FHIR = join(here, 'fhir-server.js');
const CONNECTIONS = 16;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
/** BENCH_ROWS=f,g runs only the notes rows ((f) alternated with (b), and (g)): the whole run takes a quarter of an hour or more. */
const ROWS = (process.env.BENCH_ROWS ?? '')
  .split(',')
  .map((r) => r.trim().toLowerCase())
  .filter((r) => r !== '');
/** Runs of each (g) measure (after 5 warm-up runs). */
const NOTES_RUNS = Math.max(1, Number(process.env.BENCH_NOTES_RUNS ?? 30));
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const SERVICE_PATH = '/cds-services/cohere-lumbar-mri';

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  // PGlite takes several seconds to open on this machine.
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) {
      throw new Error(`${url}: process exited with ${child.exitCode}`);
    }
    try {
      if ((await fetch(url)).ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

const children: ChildProcess[] = [];
/** Every folder the run's services may write (an embedded store without DATABASE_URL), removed at exit. */
const benchData = mkdtempSync(join(tmpdir(), 'necessity-bench-'));
process.on('exit', () => {
  children.forEach((c) => c.kill('SIGKILL'));
  rmSync(benchData, { recursive: true, force: true });
});

/**
 * Running totals of the `durationMs` the service logged for its hook calls (its own timing of the hook), and
 * for (h) the time each call waited for its record (`recordMs`) and what became of it (`record`).
 */
interface HookTimes {
  sum: number;
  count: number;
  recordMs: number[];
  states: Record<string, number>;
}

async function startService(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<{ child: ChildProcess; base: string; hookTimes: HookTimes }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, script], {
    // A service that records without DATABASE_URL keeps PGlite in a folder of the run's own, never ./data.
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), NECESSITY_DATA_DIR: mkdtempSync(join(benchData, 'service-')), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  // The service times each hook call itself and logs it ("hook answered", durationMs): read, never stored.
  const hookTimes: HookTimes = { sum: 0, count: 0, recordMs: [], states: {} };
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"hook answered')) {
        const fields = JSON.parse(line) as { durationMs?: unknown; recordMs?: unknown; record?: unknown };
        if (typeof fields.durationMs === 'number') {
          hookTimes.sum += fields.durationMs;
          hookTimes.count += 1;
        }
        if (typeof fields.recordMs === 'number') {
          hookTimes.recordMs.push(fields.recordMs);
        }
        if (typeof fields.record === 'string') {
          hookTimes.states[fields.record] = (hookTimes.states[fields.record] ?? 0) + 1;
        }
      }
    });
  }
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/healthz`, child);
  return { child, base, hookTimes };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) {
    return;
  }
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

async function load(
  url: string,
  body: string,
  options: { connections?: number; seconds?: number; headers?: () => Record<string, string>; onMeasured?: () => void } = {},
): Promise<Load> {
  const run = (seconds: number): Promise<autocannon.Result> =>
    autocannon({
      url,
      connections: options.connections ?? CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          ...(options.headers ? { setupRequest: (req: autocannon.Request) => ({ ...req, headers: { ...req.headers, ...options.headers?.() } }) } : {}),
        },
      ],
    });
  await run(WARMUP_S);
  options.onMeasured?.();
  const r = await run(options.seconds ?? DURATION_S);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

/** The round with the median throughput, whole (its latencies belong to it). */
function medianLoad<T extends Load>(rounds: readonly T[]): T {
  const sorted = [...rounds].sort((x, y) => x.rps - y.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) {
    throw new Error('no rounds measured');
  }
  return median;
}

/** An order-sign request of the typical patient cut to about `bytes`: the first resources that fit. */
function requestOfAbout(bytes: number, p: BenchPatient): string {
  let body = JSON.stringify(orderSign({ ...p, resources: [] }, { prefetch: true }));
  for (let n = 1; n <= p.resources.length; n++) {
    const next = JSON.stringify(orderSign({ ...p, resources: p.resources.slice(0, n) }, { prefetch: true }));
    if (next.length > bytes) {
      break;
    }
    body = next;
  }
  return body;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid ?? 0}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Runs a load while measuring how busy the server process was (1.0 = one core fully used). */
async function loadWithCpu(pid: number | undefined, url: string, body: string, options: Parameters<typeof load>[2] = {}): Promise<Load & { cpu: number }> {
  const before = cpuSeconds(pid);
  const started = performance.now();
  const result = await load(url, body, options);
  const cpu = (cpuSeconds(pid) - before) / ((performance.now() - started) / 1000);
  return { ...result, cpu };
}

/** Server CPU per answered request in µs (1.0 core at 1,000 req/s = 1,000 µs). */
function usPerRequest(l: { cpu: number; rps: number }): number {
  return l.rps > 0 ? (1e6 * l.cpu) / l.rps : Number.NaN;
}

/** Samples a process's resident set size (VmRSS) until stopped; returns the maximum in MB. */
function sampleRss(pid: number): () => number {
  let max = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      max = Math.max(max, kb / 1024);
    } catch {
      // process gone
    }
  }, 100);
  return () => {
    clearInterval(timer);
    return max;
  };
}

function stats(samples: number[]): { mean: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0 };
}

/** The evaluation core alone: index the record, compute every fact, evaluate both trees, compute missing. */
function coreCost(p: BenchPatient, iterations: number): { mean: number; p99: number } {
  const loaded = loadPolicy();
  const record = recordOf(p.patient, p.resources);
  const now = Date.now();
  const times: number[] = [];
  for (let i = 0; i < iterations + 50; i++) {
    const t = performance.now();
    determine(loaded, record, new RecordIndex(record), p.order, [p.order], now);
    if (i >= 50) {
      times.push(performance.now() - t);
    }
  }
  return stats(times);
}

/**
 * The whole hook for this patient in this process (µs per call, the span the service logs as durationMs): one
 * call after another, and with `evictMegabytes` of other memory read and written between calls, which pushes
 * the hook's code and data out of the CPU caches as the socket reads, parses and writes of other requests do
 * between two hook calls under load. Each call gets a freshly parsed request, as in the service. The two
 * readings alternate over `rounds` and the medians are returned, since the machine drifts.
 */
async function wholeHook(p: BenchPatient, iterations: number, evictMegabytes: number, rounds = 5): Promise<{ warm: number; evicted: number }> {
  const loaded = loadPolicy();
  const prefetch = prefetchTemplates(loadServiceDefinitions().find((d) => d.hooks.includes('order-sign')) ?? ({} as never));
  const validators = requestValidators(prefetch.map((t) => t.key));
  const hook = createOrderHook({
    loaded,
    templates: loadCardTemplates(),
    prefetch,
    gather: { readerFactory: fhirKitReader, deadlineMs: 4000, maxPages: 100 },
    mirrorSystemActions: false,
    questionnaires: { served: () => Promise.resolve(new Set<string>()) },
    plans: loadPlans(),
    crdOptions: loadConfigurationOptions(),
    coverageCards: loadCoverageCardTemplates(),
  });
  const text = JSON.stringify(orderSign(p, { prefetch: true }));
  const other = new Float64Array((evictMegabytes * 2 ** 20) / 8);
  const perCall = async (evict: boolean): Promise<number> => {
    let total = 0;
    for (let i = 0; i < iterations; i++) {
      const checked = validators.hookRequest(JSON.parse(text));
      if (!checked.ok) {
        throw new Error(checked.message);
      }
      if (evict) {
        // One touch per 64-byte cache line.
        for (let k = 0; k < other.length; k += 8) {
          other[k] = (other[k] ?? 0) + 1;
        }
      }
      const t = performance.now();
      await hook(checked.value, Date.now(), 'http://127.0.0.1');
      total += performance.now() - t;
    }
    return (total / iterations) * 1000;
  };
  await perCall(false);
  const warm: number[] = [];
  const evicted: number[] = [];
  for (let r = 0; r < rounds; r++) {
    warm.push(await perCall(false));
    evicted.push(await perCall(true));
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  return { warm: median(warm), evicted: median(evicted) };
}

/** Each step of one order-sign call for this patient, in this process, in microseconds per call. */
async function steps(p: BenchPatient, iterations: number): Promise<[string, number][]> {
  const loaded = loadPolicy();
  const templates = loadCardTemplates();
  const prefetch = prefetchTemplates(loadServiceDefinitions().find((d) => d.hooks.includes('order-sign')) ?? ({} as never));
  const validators = requestValidators(prefetch.map((t) => t.key));
  const renderer = new CardRenderer(loaded, templates);
  const text = JSON.stringify(orderSign(p, { prefetch: true }));
  const body = JSON.parse(text) as { context: Record<string, unknown>; prefetch: Record<string, unknown> };
  const gather = { readerFactory: fhirKitReader, deadlineMs: 4000, maxPages: 100 };
  const request = { patientId: p.patient.id ?? '', context: body.context, prefetch: body.prefetch };
  const record = await gatherRecord(prefetch, request, gather);
  const index = new RecordIndex(record);
  const now = Date.now();
  const factInput = { policy: loaded.policy, valueSets: loaded.valueSets, lexicon: loaded.lexicon, index, order: p.order, draftOrders: [p.order], now };
  const facts = extractFacts(factInput);
  const values = new Map([...facts].map(([id, f]) => [id, f.value]));
  const det = determine(loaded, record, index, p.order, [p.order], now);
  const plans = loadPlans();
  const crdOptions = loadConfigurationOptions();
  const wording: CrdWording = { loaded, templates, coverageCards: loadCoverageCardTemplates(), options: crdOptions, payerName: plans[0]?.name ?? '' };
  const config = readConfiguration(crdOptions, undefined);
  const coverage = chooseCoverage(coverageEvidence(record), plans, p.order, now);
  if (coverage.kind !== 'served') {
    throw new Error(`the bench patient's coverage is not served (${coverage.kind})`);
  }
  const card = renderer.card(det, 'active', 'http://127.0.0.1/policies/x');
  const measured: [string, () => unknown][] = [
    ['JSON.parse of the request body', () => JSON.parse(text)],
    ['validate the request (ajv)', () => validators.hookRequest(body)],
    ['gather the record from prefetch', () => gatherRecord(prefetch, request, gather)],
    ['index records that count (dates, statuses)', () => new RecordIndex(record)],
    ['compute the 40 facts', () => extractFacts(factInput)],
    ['evaluate both trees, decide, missing', () => decide(loaded.policy, values)],
    ['choose the coverage (SPEC §7.1)', () => chooseCoverage(coverageEvidence(record), plans, p.order, now)],
    ['render the card', () => renderer.card(det, 'active', 'http://127.0.0.1/policies/x')],
    [`questionnaire of the missing facts (${det.outcome.missing.length})`, () => buildQuestionnaire(loaded.policy, 'http://127.0.0.1', det.outcome.missing, { id: 'q', title: 'q', facts })],
    ['coverage-information action', () => coverageAction(p.order, assertionForDetermination(det, coverage, config, wording, (id: string) => id, now), wording)],
    ['JSON.stringify of the response', () => JSON.stringify({ cards: [card] })],
  ];
  const out: [string, number][] = [];
  for (const [name, f] of measured) {
    for (let i = 0; i < 200; i++) {
      await f();
    }
    const t = performance.now();
    for (let i = 0; i < iterations; i++) {
      await f();
    }
    out.push([name, ((performance.now() - t) / iterations) * 1000]);
  }
  return out;
}

// ---- client JWTs for (e): an ES384 key, its JWKS on loopback, tokens signed ahead of the run ----

const b64 = (x: unknown): string => Buffer.from(JSON.stringify(x)).toString('base64url');

function es384Token(key: KeyObject, kid: string, iss: string, aud: string): string {
  const now = Math.floor(Date.now() / 1000);
  const signingInput = `${b64({ alg: 'ES384', typ: 'JWT', kid })}.${b64({ iss, aud, iat: now, exp: now + 600, jti: randomUUID() })}`;
  const signature = createSign('SHA384').update(signingInput).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${signingInput}.${signature}`;
}

async function jwksServer(jwk: object): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` };
}

// ---- CPU profile summary ----

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

function topFunctions(file: string, n: number): { name: string; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)?.callFrame;
    const where = f?.url ? `${basename(f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : 'native';
    const key = `${f?.functionName || '(anonymous)'} (${where})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, c]) => ({ name, share: (100 * c) / total }));
}

// ---- notes (issue #11): (f) over HTTP beside (b), (g) in this process ----

/** The 20 plain-text notes of (f), about 60,000 characters of the bench notes in all. */
const F_NOTES = benchDocuments(20, 60_000, true);

/** One round of (f) (or of (b) beside it): the load, and the service's resident set size at its largest during it (warm-up included). */
async function notesRound(pid: number | undefined, url: string, body: string): Promise<Load & { cpu: number; rssMb: number }> {
  const rss = sampleRss(pid ?? 0);
  const result = await loadWithCpu(pid, url, body);
  return { ...result, rssMb: rss() };
}

/** The (f) row and its two targets, from (b) and (f) rounds run alternately on the same service. */
function notesRowF(bRounds: readonly Load[], fRounds: readonly (Load & { cpu: number; rssMb: number })[], fBody: string, bRssMb: number): void {
  const b = medianLoad(bRounds);
  const f = medianLoad(fRounds);
  const chars = F_NOTES.reduce((n, d) => n + d.text.length, 0);
  rows.push(
    `| (f) (b) with ${F_NOTES.length} notes in prefetch (text/plain, base64; ${chars.toLocaleString('en-US')} characters; request ${fmt(fBody.length / 1024)} KB), the record off (median of ${fRounds.length}, alternated with (b)) | ${fmt(f.rps, 0)} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${f.non2xx + f.errors} | ${fmt(f.cpu, 2)} |`,
  );
  const r = fRounds.map((x, i) => (100 * x.rps) / (bRounds[i]?.rps ?? Number.NaN));
  check(
    '(f) ≥ 80 % of (b) throughput',
    f.rps >= 0.8 * b.rps,
    `${fmt((100 * f.rps) / b.rps)} % of the medians (${fmt(f.rps, 0)} vs ${fmt(b.rps, 0)} req/s; rounds ${r.map((x) => `${fmt(x, 0)} %`).join(', ')}; median of the paired rounds ${fmt([...r].sort((x, y) => x - y)[Math.floor(r.length / 2)] ?? 0)} %)`,
  );
  const rssMax = Math.max(...fRounds.map((x) => x.rssMb));
  check('RSS ≤ 300 MB during (f)', rssMax <= 300, `${fmt(rssMax)} MB (rounds ${fRounds.map((x) => fmt(x.rssMb, 0)).join(', ')} MB; during the (b) rounds beside them ${fmt(bRssMb)} MB)`);
}

/** (g) in this process: the lines of the report and its target (judged on the full path). */
function notesRowG(): string[] {
  const before = loadavg()[0] ?? Number.NaN;
  const reading = measureNotesReading(NOTES_RUNS);
  const full = measureNotesToFacts(NOTES_RUNS);
  const after = loadavg()[0] ?? Number.NaN;
  check(
    '(g) 1,000,000 characters of notes to facts, p50 ≤ 25 ms',
    full.p50 <= 25,
    `${fmt(full.p50)} ms for ${full.texts} notes (p95 ${fmt(full.p95)} ms); the reader alone ${fmt(reading.p50)} ms for ${reading.texts} notes, ${fmt(reading.oneTextP50)} ms as one text`,
  );
  return [
    `(g) notes in this process, ${NOTES_RUNS} runs after 5 warm-up runs each (load average ${fmt(before, 2)} before, ${fmt(after, 2)} after):`,
    '',
    '| (g) measure | characters | texts | p50 ms | p95 ms |',
    '|---|---:|---:|---:|---:|',
    `| the reader alone (readNote: HTML, sections, sentences, mentions, assertions, care) | ${reading.chars.toLocaleString('en-US')} | ${reading.texts} | ${fmt(reading.p50)} | ${fmt(reading.p95)} |`,
    `| the reader alone, the same characters as one text | ${reading.chars.toLocaleString('en-US')} | 1 | ${fmt(reading.oneTextP50)} | ${fmt(reading.oneTextP95)} |`,
    `| the full path: DocumentReferences (base64) in the gathered record → index → noteTextsOf → readings → every fact (${full.noteEvidence} note evidence items; without the notes ${fmt(full.withoutNotesP50, 2)} ms) | ${full.chars.toLocaleString('en-US')} | ${full.texts} | ${fmt(full.p50)} | ${fmt(full.p95)} |`,
  ];
}

// ---- the run ----

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const typical = typicalPatient();
const largest = largestPatient();
const heavy = heavyPatient(5000);
const typicalBody = JSON.stringify(orderSign(typical, { prefetch: true }));
const smallBody = requestOfAbout(20_000, typical);
const largestBody = JSON.stringify(orderSign(largest, { prefetch: true }));
const heavyBody = JSON.stringify(orderSign(heavy, { prefetch: true }));
const rows: string[] = [];
const verdicts: string[] = [];
const check = (label: string, ok: boolean, detail: string): void => {
  verdicts.push(`| ${label} | ${detail} | ${ok ? 'met' : 'NOT met'} |`);
};

if (ROWS.length > 0) {
  // Only the notes rows: (b) and (f) alternated on one record-off service, then (g) in this process.
  const unknown = ROWS.filter((r) => r !== 'f' && r !== 'g');
  if (unknown.length > 0) {
    throw new Error(`BENCH_ROWS: only f and g run alone (not ${unknown.join(', ')}); leave it unset for the whole run`);
  }
  const lines: string[] = [];
  if (ROWS.includes('f')) {
    const fBody = JSON.stringify(orderSign(withNotes(typical, F_NOTES), { prefetch: true }));
    const alone = await startService(RECORD_OFF, {});
    const bOnly: (Load & { cpu: number; rssMb: number })[] = [];
    const fOnly: (Load & { cpu: number; rssMb: number })[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bOnly.push(await notesRound(alone.child.pid, `${alone.base}${SERVICE_PATH}`, typicalBody));
      fOnly.push(await notesRound(alone.child.pid, `${alone.base}${SERVICE_PATH}`, fBody));
    }
    await stop(alone.child);
    const b = medianLoad(bOnly);
    rows.push(`| (b) order-sign, full prefetch, typical patient, the record off (median of ${ROUNDS}) | ${fmt(b.rps, 0)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${b.non2xx + b.errors} | ${fmt(b.cpu, 2)} |`);
    notesRowF(bOnly, fOnly, fBody, Math.max(...bOnly.map((x) => x.rssMb)));
    lines.push('| run | req/s | p50 ms | p99 ms | non-2xx + errors | server CPU (cores) |', '|---|---:|---:|---:|---:|---:|', ...rows, '');
  }
  if (ROWS.includes('g')) {
    lines.push(...notesRowG(), '');
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
  const report = [
    `necessity benchmark, rows ${ROWS.join(', ')} only (BENCH_ROWS) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${machine}`,
    `command: BENCH_ROWS=${ROWS.join(',')} npm run bench (autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per row; (b) and (f) alternated ${ROUNDS} times on one record-off service, medians shown)`,
    '',
    ...lines,
    '| target | measured | |',
    '|---|---|---|',
    ...verdicts,
  ].join('\n');
  console.log(report);
  writeFileSync(join(here, '..', '..', 'bench-results.md'), `${report}\n`);
  process.exit(0);
}

console.error(`bench: typical ${typical.resources.length + 1} resources (${fmt(typicalBody.length / 1024)} KB request), largest ${largest.resources.length + 1} (${fmt(largestBody.length / 1024)} KB), heavy ${heavy.resources.length + 1} (${fmt(heavyBody.length / 1024)} KB)`);

// (a), (a″), (b), (f) and the two (h) alternate, ROUNDS times each, every server up throughout: this machine's
// throughput drifts by a quarter from one minute to the next, so a single (a) then a single (b) compares two
// different machines. (a″) sits between (a) and (b): the service minus the hook's work (bench/replay.ts). (b) is
// the service with the record off (bench/record-off.ts), and (f) the same service sent (b)'s request with notes;
// (h) is src/server.ts recording every call, into the embedded PGlite on disk and into PostgreSQL (a fresh database
// on BENCH_DATABASE_URL's server).
const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const benchDb = `necessity_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const adminSql = async (statement: string, url = adminUrl): Promise<Record<string, unknown>[]> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(statement)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
};
await adminSql(`create database ${benchDb}`);
const benchDbUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${benchDb}`;
  return u.toString();
})();
const pgliteDir = mkdtempSync(join(benchData, 'pglite-'));
const ceiling = await startService(CEILING, { CEILING_BODY_BYTES: '20000' });
const replay = await startService(REPLAY, {});
const service = await startService(RECORD_OFF, {});
const hPglite = await startService(SERVER, { NECESSITY_DATA_DIR: pgliteDir });
const hPostgres = await startService(SERVER, { DATABASE_URL: benchDbUrl });
const aRounds: (Load & { cpu: number })[] = [];
const replayRounds: (Load & { cpu: number })[] = [];
const bRounds: (Load & { cpu: number })[] = [];
/** (f): (b)'s request with 20 notes, on the same service, right after (b) in every round. */
const fRounds: (Load & { cpu: number; rssMb: number })[] = [];
/** The record-off service's RSS at its largest during the (b) rounds, beside (f)'s. */
let bRssMax = 0;
const notesBody = JSON.stringify(orderSign(withNotes(typical, F_NOTES), { prefetch: true }));
const hPgliteRounds: (Load & { cpu: number })[] = [];
const hPostgresRounds: (Load & { cpu: number })[] = [];
// The hook as the service itself timed it during the measured seconds of (b), from its log lines.
const hookUnderLoad = { sum: 0, count: 0 };
/** What each (h) call waited for its record during the measured seconds, and what became of the records. */
const recordWaits = { pglite: [] as number[], postgres: [] as number[] };
const recordStates = { pglite: {} as Record<string, number>, postgres: {} as Record<string, number> };
const hRss = { pglite: sampleRss(hPglite.child.pid ?? 0), postgres: sampleRss(hPostgres.child.pid ?? 0) };
/** Runs one (h) round, keeping the record waits of its measured seconds. */
async function recordRound(h: typeof hPglite, engine: 'pglite' | 'postgres'): Promise<Load & { cpu: number }> {
  let from = h.hookTimes.recordMs.length;
  let statesFrom = { ...h.hookTimes.states };
  const result = await loadWithCpu(h.child.pid, `${h.base}${SERVICE_PATH}`, typicalBody, {
    onMeasured: () => {
      from = h.hookTimes.recordMs.length;
      statesFrom = { ...h.hookTimes.states };
    },
  });
  recordWaits[engine].push(...h.hookTimes.recordMs.slice(from));
  for (const [state, n] of Object.entries(h.hookTimes.states)) {
    recordStates[engine][state] = (recordStates[engine][state] ?? 0) + n - (statesFrom[state] ?? 0);
  }
  return result;
}
for (let round = 0; round < ROUNDS; round++) {
  aRounds.push(await loadWithCpu(ceiling.child.pid, `${ceiling.base}${SERVICE_PATH}`, typicalBody));
  replayRounds.push(await loadWithCpu(replay.child.pid, `${replay.base}${SERVICE_PATH}`, typicalBody));
  let from = { ...service.hookTimes };
  const bRss = sampleRss(service.child.pid ?? 0);
  bRounds.push(await loadWithCpu(service.child.pid, `${service.base}${SERVICE_PATH}`, typicalBody, { onMeasured: () => (from = { ...service.hookTimes }) }));
  bRssMax = Math.max(bRssMax, bRss());
  hookUnderLoad.sum += service.hookTimes.sum - from.sum;
  hookUnderLoad.count += service.hookTimes.count - from.count;
  fRounds.push(await notesRound(service.child.pid, `${service.base}${SERVICE_PATH}`, notesBody));
  hPgliteRounds.push(await recordRound(hPglite, 'pglite'));
  hPostgresRounds.push(await recordRound(hPostgres, 'postgres'));
}
const hRssMax = { pglite: hRss.pglite(), postgres: hRss.postgres() };
// The record's size: every call of the (h) runs (warm-up included), after each service wrote its queue out on SIGTERM.
const SIZE_SQL = `select (select count(*) from determination)::int as determinations, (select count(*) from invocation)::int as calls,
  (pg_total_relation_size('invocation') + pg_total_relation_size('determination'))::bigint as bytes`;
await stop(hPostgres.child);
const pgSize = (await adminSql(SIZE_SQL, benchDbUrl))[0] as { determinations: number; calls: number; bytes: string };
await adminSql(`drop database if exists ${benchDb} with (force)`);
await stop(hPglite.child);
const embedded = await PGlite.create({ dataDir: join(pgliteDir, 'pglite') });
const pgliteSize = (await embedded.query<{ determinations: number; calls: number; bytes: string }>(SIZE_SQL)).rows[0] ?? { determinations: 0, calls: 0, bytes: '0' };
await embedded.close();
rmSync(pgliteDir, { recursive: true, force: true });
const mbPer1000 = (size: { determinations: number; bytes: string }): number => (Number(size.bytes) / 2 ** 20 / Math.max(1, size.determinations)) * 1000;
const percentile = (xs: readonly number[], p: number): number => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
// The issue's words read literally: the ceiling answering a 20 KB request (ours is larger: Synthea resources are verbose).
const aSmall = await loadWithCpu(ceiling.child.pid, `${ceiling.base}${SERVICE_PATH}`, smallBody);
await stop(ceiling.child);
await stop(replay.child);
const a = medianLoad(aRounds);
const aReplay = medianLoad(replayRounds);
const b = medianLoad(bRounds);
const ratios = aRounds.map((x, i) => (100 * (bRounds[i]?.rps ?? 0)) / x.rps);
rows.push(`| (a) ceiling: same middleware, same request as (b), fixed 20 KB answer (median of ${ROUNDS}) | ${fmt(a.rps, 0)} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${a.non2xx + a.errors} | ${fmt(a.cpu, 2)} |`);
rows.push(`| (a′) the same ceiling sent a ${fmt(smallBody.length / 1024)} KB request (the issue's "20 KB JSON POST"; one round) | ${fmt(aSmall.rps, 0)} | ${fmt(aSmall.p50)} | ${fmt(aSmall.p99)} | ${aSmall.non2xx + aSmall.errors} | ${fmt(aSmall.cpu, 2)} |`);
rows.push(`| (a″) the service without the hook's work: same request, validation, log line and real response, determination replayed (median of ${ROUNDS}) | ${fmt(aReplay.rps, 0)} | ${fmt(aReplay.p50)} | ${fmt(aReplay.p99)} | ${aReplay.non2xx + aReplay.errors} | ${fmt(aReplay.cpu, 2)} |`);
rows.push(`| (b) order-sign, full prefetch, typical patient, the record off (median of ${ROUNDS}) | ${fmt(b.rps, 0)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${b.non2xx + b.errors} | ${fmt(b.cpu, 2)} |`);
notesRowF(bRounds, fRounds, notesBody, bRssMax);
const hP = medianLoad(hPgliteRounds);
const hQ = medianLoad(hPostgresRounds);
rows.push(`| (h) (b) with the record on: embedded PGlite on disk (median of ${ROUNDS}) | ${fmt(hP.rps, 0)} | ${fmt(hP.p50)} | ${fmt(hP.p99)} | ${hP.non2xx + hP.errors} | ${fmt(hP.cpu, 2)} |`);
rows.push(`| (h) (b) with the record on: PostgreSQL 127.0.0.1:5432 (median of ${ROUNDS}) | ${fmt(hQ.rps, 0)} | ${fmt(hQ.p50)} | ${fmt(hQ.p99)} | ${hQ.non2xx + hQ.errors} | ${fmt(hQ.cpu, 2)} |`);
const rss = sampleRss(service.child.pid ?? 0);
const c = await loadWithCpu(service.child.pid, `${service.base}${SERVICE_PATH}`, largestBody);
const rssMax = rss();
rows.push(`| (c) order-sign, full prefetch, largest Synthea record | ${fmt(c.rps, 0)} | ${fmt(c.p50)} | ${fmt(c.p99)} | ${c.non2xx + c.errors} | ${fmt(c.cpu, 2)} |`);
const heavyRss = sampleRss(service.child.pid ?? 0);
const h = await loadWithCpu(service.child.pid, `${service.base}${SERVICE_PATH}`, heavyBody, { seconds: Math.max(5, DURATION_S / 2) });
const heavyRssMax = heavyRss();
rows.push(`| (c+) the same, record grown to ${heavy.resources.length + 1} resources | ${fmt(h.rps, 0)} | ${fmt(h.p50)} | ${fmt(h.p99)} | ${h.non2xx + h.errors} | ${fmt(h.cpu, 2)} |`);

// (d) no prefetch: the service queries the real FHIR test server, 40 ms added to every FHIR request
const fhirToken = randomUUID();
const fhirChild = spawn(process.execPath, ['--experimental-websocket', FHIR], { env: { ...process.env, FHIR_TOKEN: fhirToken, FHIR_DELAY_MS: '40' }, stdio: ['ignore', 'pipe', 'inherit'] });
children.push(fhirChild);
const fhirInfo = await new Promise<{ baseUrl: string; patientId: string }>((resolve) => {
  fhirChild.stdout?.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { baseUrl: string; patientId: string }));
});
const roundTrips: number[] = [];
for (let i = 0; i < 30; i++) {
  const t = performance.now();
  await (await fetch(`${fhirInfo.baseUrl}/Condition?patient=${fhirInfo.patientId}`, { headers: { authorization: `Bearer ${fhirToken}` } })).json();
  roundTrips.push(performance.now() - t);
}
const roundTrip = [...roundTrips].sort((x, y) => x - y)[15] ?? 0;
const fetchBody = JSON.stringify(orderSign(typical, { fhirServer: fhirInfo.baseUrl, token: fhirToken }));
const d = await load(`${service.base}${SERVICE_PATH}`, fetchBody, { connections: 1 });
rows.push(`| (d) order-sign, no prefetch, FHIR server +40 ms per request (1 connection) | ${fmt(d.rps, 0)} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${d.non2xx + d.errors} | |`);
await stop(fhirChild);
await stop(service.child);

// (e) (b) with ES384 client JWT verification on, and one verification alone
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const kid = randomUUID();
const jwks = await jwksServer({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' });
const iss = 'https://ehr.bench.example';
const authPort = await freePort();
const authBase = `http://127.0.0.1:${authPort}`;
const aud = `${authBase}${SERVICE_PATH}`;
const verifier = new ClientVerifier({ clients: [{ iss, jku: jwks.url }], algorithms: ['ES384'] });
await verifier.verify(`Bearer ${es384Token(privateKey, kid, iss, aud)}`, aud);
const verifyTimes: number[] = [];
for (let i = 0; i < 2000; i++) {
  const token = `Bearer ${es384Token(privateKey, kid, iss, aud)}`;
  const t = performance.now();
  await verifier.verify(token, aud);
  verifyTimes.push(performance.now() - t);
}
const verifyCost = stats(verifyTimes);
const tokens = Array.from({ length: Math.ceil(b.rps * (DURATION_S + WARMUP_S) * 1.5) + 1000 }, () => es384Token(privateKey, kid, iss, aud));
let next = 0;
const authService = spawn(process.execPath, [RECORD_OFF], {
  // The JWKS is served over http on loopback: production refuses an http jku unless told the network is closed.
  env: { ...process.env, NODE_ENV: 'production', CDS_ALLOW_INSECURE_HTTP: 'on', CDS_REVIEWER_API: 'off', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(authPort), CDS_PUBLIC_URL: authBase, CDS_JWT_ALGORITHMS: 'ES384', CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss, jku: jwks.url }]) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
children.push(authService);
await waitFor(`${authBase}/healthz`, authService);
const e = await load(aud, typicalBody, { headers: () => ({ authorization: `Bearer ${tokens[next++ % tokens.length] ?? ''}` }) });
rows.push(`| (e) (b) with ES384 client JWT verification | ${fmt(e.rps, 0)} | ${fmt(e.p50)} | ${fmt(e.p99)} | ${e.non2xx + e.errors} | |`);
await stop(authService);
jwks.server.close();

// The evaluation core alone, in this process
const coreTypical = coreCost(typical, 3000);
const coreLargest = coreCost(largest, 1000);
const coreHeavy = coreCost(heavy, 100);
const typicalSteps = await steps(typical, 5000);
const EVICT_MB = 32;
const hookAlone = await wholeHook(typical, 1000, EVICT_MB);
const hookInService = hookUnderLoad.count > 0 ? (1000 * hookUnderLoad.sum) / hookUnderLoad.count : Number.NaN;
const notesLines = notesRowG();

// Where the time goes: a CPU profile of the service under load (b)
const profileDir = mkdtempSync(join(tmpdir(), 'necessity-prof-'));
const profiled = await startService(RECORD_OFF, {}, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
await load(`${profiled.base}${SERVICE_PATH}`, typicalBody, { seconds: 5 });
await stop(profiled.child);
const profileFile = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
const top = profileFile ? topFunctions(join(profileDir, profileFile), 12) : [];

// Targets
check(
  '(b) ≥ 70 % of (a) throughput at 16 connections',
  b.rps >= 0.7 * a.rps,
  `${fmt((100 * b.rps) / a.rps)} % of the medians (rounds: ${ratios.map((r) => `${fmt(r, 0)} %`).join(', ')}; median of the paired rounds ${fmt([...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)] ?? 0)} %); ${fmt((100 * b.rps) / aSmall.rps)} % of (a′)`,
);
check('(b) p99 ≤ 25 ms', b.p99 <= 25, `${fmt(b.p99)} ms`);
const paired = (hRounds: readonly Load[]): string => {
  const r = hRounds.map((x, i) => (100 * x.rps) / (bRounds[i]?.rps ?? Number.NaN));
  return `rounds ${r.map((x) => `${fmt(x, 0)} %`).join(', ')}; median of the paired rounds ${fmt([...r].sort((x, y) => x - y)[Math.floor(r.length / 2)] ?? 0)} %`;
};
check('(h) PGlite ≥ 85 % of (b) throughput', hP.rps >= 0.85 * b.rps, `${fmt((100 * hP.rps) / b.rps)} % of the medians (${paired(hPgliteRounds)})`);
check('(h) PostgreSQL ≥ 85 % of (b) throughput', hQ.rps >= 0.85 * b.rps, `${fmt((100 * hQ.rps) / b.rps)} % of the medians (${paired(hPostgresRounds)})`);
check('(c) p50 ≤ 60 ms', c.p50 <= 60, `${fmt(c.p50)} ms`);
check('core ≤ 0.5 ms, typical patient', coreTypical.mean <= 0.5, `mean ${fmt(coreTypical.mean, 3)} ms, p99 ${fmt(coreTypical.p99, 3)} ms`);
check('core ≤ 15 ms, largest record', coreLargest.mean <= 15, `mean ${fmt(coreLargest.mean, 3)} ms, p99 ${fmt(coreLargest.p99, 3)} ms`);
check('(d) ≤ 2.5 × one FHIR round trip', d.p50 <= 2.5 * roundTrip, `p50 ${fmt(d.p50)} ms = ${fmt(d.p50 / roundTrip, 2)} × ${fmt(roundTrip)} ms`);
const expectedE = 1000 / (1000 / b.rps + verifyCost.mean);
check('(e) within 15 % of (b) plus the verification cost', e.rps >= 0.85 * expectedE, `${fmt(e.rps, 0)} req/s vs ${fmt(expectedE, 0)} expected (one verification ${fmt(verifyCost.mean, 3)} ms)`);
check('RSS ≤ 250 MB during (c)', rssMax <= 250, `${fmt(rssMax)} MB (c+: ${fmt(heavyRssMax)} MB)`);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
const report = [
  `necessity benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${machine}`,
  `command: npm run bench (autocannon, ${CONNECTIONS} connections unless noted, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per row; (a), (a″), (b), (f) and both (h) alternated ${ROUNDS} times, medians shown; every server in its own process; (b) to (e) with the record off, (h) with it on)`,
  `requests: typical ${typical.resources.length + 1} resources, ${fmt(typicalBody.length / 1024)} KB; largest ${largest.resources.length + 1} resources, ${fmt(largestBody.length / 1024)} KB; grown ${heavy.resources.length + 1} resources, ${fmt(heavyBody.length / 1024)} KB`,
  '',
  '| run | req/s | p50 ms | p99 ms | non-2xx + errors | server CPU (cores) |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  `Server CPU per request, from the medians: (a) ${fmt(usPerRequest(a), 0)} µs, (a″) ${fmt(usPerRequest(aReplay), 0)} µs, (b) ${fmt(usPerRequest(b), 0)} µs: the code around the hook ${fmt(usPerRequest(aReplay) - usPerRequest(a), 0)} µs, the hook's work ${fmt(usPerRequest(b) - usPerRequest(aReplay), 0)} µs (its own timing inside the service: ${fmt(hookInService, 0)} µs). 70 % of (a) allows (b) ${fmt(usPerRequest(a) / 0.7, 0)} µs.`,
  '',
  `The record under (h), during the measured seconds of every round: what each call waited for its record to be committed (recordMs, from handing it to the store to its answer; calls arriving together share one INSERT), and what became of the records:`,
  '',
  '| engine | calls | p50 ms | p99 ms | max ms | durable | queued (answered after the 250 ms write timeout) | dropped | service RSS max MB | size per 1,000 determinations |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...(['pglite', 'postgres'] as const).map((engine) => {
    const waits = recordWaits[engine];
    const states = recordStates[engine];
    const size = engine === 'pglite' ? pgliteSize : pgSize;
    return `| ${engine === 'pglite' ? 'PGlite on disk' : 'PostgreSQL'} | ${waits.length} | ${fmt(percentile(waits, 0.5), 2)} | ${fmt(percentile(waits, 0.99), 2)} | ${fmt(percentile(waits, 1), 2)} | ${states.durable ?? 0} | ${states.queued ?? 0} | ${states.dropped ?? 0} | ${fmt(hRssMax[engine])} | ${fmt(mbPer1000(size), 2)} MB (${size.calls} calls, ${size.determinations} determinations, ${fmt(Number(size.bytes) / 2 ** 20)} MB with indexes and TOAST) |`;
  }),
  '',
  `One FHIR round trip (Condition search, +40 ms): median ${fmt(roundTrip)} ms. One ES384 verification: mean ${fmt(verifyCost.mean, 3)} ms, p99 ${fmt(verifyCost.p99, 3)} ms.`,
  `Evaluation core (index + facts + trees + missing): typical mean ${fmt(coreTypical.mean, 3)} ms / p99 ${fmt(coreTypical.p99, 3)} ms; largest ${fmt(coreLargest.mean, 3)} / ${fmt(coreLargest.p99, 3)} ms; grown to ${heavy.resources.length + 1}: ${fmt(coreHeavy.mean, 2)} / ${fmt(coreHeavy.p99, 2)} ms.`,
  '',
  ...notesLines,
  '',
  'One order-sign for the typical patient, step by step, in one process (µs per call):',
  '',
  '| step | µs |',
  '|---|---:|',
  ...typicalSteps.map(([name, us]) => `| ${name} | ${fmt(us)} |`),
  '',
  'The whole hook for the typical patient (after validation, before serialisation; µs per call):',
  '',
  '| where | µs |',
  '|---|---:|',
  `| in one process, one call after another (median of 5 rounds) | ${fmt(hookAlone.warm)} |`,
  `| in one process, ${EVICT_MB} MB of other memory read and written between calls (median of 5 rounds) | ${fmt(hookAlone.evicted)} |`,
  `| inside the service during the measured seconds of (b): its own log's durationMs, mean of ${hookUnderLoad.count} calls | ${fmt(hookInService)} |`,
  '',
  '| target | measured | |',
  '|---|---|---|',
  ...verdicts,
  '',
  'CPU profile of the service under (b), top self time:',
  '',
  '| function | self % |',
  '|---|---:|',
  ...top.map((t) => `| ${t.name.replace(/\|/g, '\\|')} | ${fmt(t.share)} |`),
].join('\n');
console.log(report);
writeFileSync(join(here, '..', '..', 'bench-results.md'), `${report}\n`);
process.exit(0);
