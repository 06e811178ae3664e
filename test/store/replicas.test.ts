import { randomBytes } from 'node:crypto';
import { hookRequest } from '../support/ehr.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { prefetchOf } from '../support/prefetch.js';
import { loadScenarios, type Scenario } from '../support/scenarios.js';
import { buildService, freshDatabase, startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { POSTGRES_URL } from '../support/store-engines.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * Issue #13 §4 and §5 with real processes: the service compiled as production runs it, each replica its own
 * Node process, sharing one PostgreSQL database (fresh per test), client authentication on with a test EHR
 * identity behind one public URL, as behind a load balancer. The fault test puts a TCP proxy this test
 * controls between a replica and PostgreSQL.
 */
const PUBLIC = 'http://necessity.test';
const SERVICE = '/cds-services/cohere-lumbar-mri';
const REVIEWER = randomBytes(24).toString('base64url');
const scenarios = loadScenarios();
const meets = scenarios.find((s) => s.id === 'pub-01') as Scenario;
const needs = scenarios.find((s) => s.id === 'pub-10') as Scenario;
type Json = Record<string, any>;

let build: Awaited<ReturnType<typeof buildService>>;
let ehr: EhrIdentity;

beforeAll(async () => {
  [build, ehr] = await Promise.all([buildService(), startEhrIdentity()]);
}, 180_000);
afterAll(async () => {
  await ehr?.close();
  build?.remove();
});

function settings(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    CDS_PUBLIC_URL: PUBLIC,
    CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku }]),
    CDS_REVIEWER_TOKENS: REVIEWER,
    ...extra,
  };
}

/** Signs a scenario on one replica; the JWT's audience is the public URL every replica answers under. */
async function sign(replica: ServiceProcess, s: Scenario, jwt?: string): Promise<{ status: number; body: Json; hookInstance: string }> {
  const body = hookRequest({ hook: 'order-sign', patientId: s.patient.id ?? '', draftOrders: s.draftOrders, prefetch: prefetchOf(s.patient, s.resources) });
  const res = await fetch(`${replica.base}${SERVICE}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt ?? (await ehr.sign(`${PUBLIC}${SERVICE}`))}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Json) : {}, hookInstance: String(body.hookInstance) };
}

/** Runs `n` tasks, `width` at a time. */
async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < n; i = next++) {
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

const assertionId = (body: Json): string | undefined =>
  ((body.systemActions?.[0]?.resource?.extension ?? []) as Json[]).flatMap((e) => (e.extension ?? []) as Json[]).find((p) => p.url === 'coverage-assertion-id')?.valueString as string | undefined;

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return what();
}

describe('two service processes on one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let one: ServiceProcess;
  let two: ServiceProcess;

  beforeAll(async () => {
    db = await freshDatabase();
    one = await startServiceProcess(build.server, settings(db.url));
    two = await startServiceProcess(build.server, settings(db.url));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await db?.drop();
  });

  test('a request signed with one jti is accepted by replica 1 and refused (401) by replica 2', async () => {
    const jwt = await ehr.sign(`${PUBLIC}${SERVICE}`);
    expect((await sign(one, meets, jwt)).status).toBe(200);
    expect((await sign(two, meets, jwt)).status).toBe(401);
  });

  test('a questionnaire created through replica 1 is served by replica 2', async () => {
    const res = await sign(one, needs);
    expect(res.status).toBe(200);
    const link = String((res.body.cards[0].links as Json[])[0]?.url);
    expect(link.startsWith(`${PUBLIC}/Questionnaire/`)).toBe(true);
    const fetched = await fetch(`${two.base}${new URL(link).pathname}`, { headers: { accept: 'application/fhir+json' } });
    expect(fetched.status).toBe(200);
    const q = (await fetched.json()) as Json;
    expect(q.url).toBe(link);
    const asked = (q.item as Json[]).flatMap((g) => (g.item as Json[]).map((i) => String(i.linkId))).sort();
    expect(asked).toEqual([...(res.body.cards[0].extension['necessity.determination'].missing as string[])].sort());
  });

  test('1,000 signings spread across both replicas give exactly 1,000 invocation records and 1,000 distinct assertion ids', async () => {
    const [{ n: before }] = (await db.query('select count(*)::int as n from invocation')) as [{ n: number }];
    const answers = await pool(1_000, 8, (i) => sign(i % 2 === 0 ? one : two, meets));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const ids = new Set(answers.map((a) => assertionId(a.body)));
    expect(ids.size).toBe(1_000);
    // A record answered "queued" under load is written moments later: wait for the queues to empty.
    expect(await until(async () => ((await db.query('select count(*)::int as n from invocation')) as [{ n: number }])[0].n === before + 1_000, 30_000)).toBe(true);
    const instances = answers.map((a) => `'${a.hookInstance}'`).join(',');
    const [calls] = (await db.query(`select count(*)::int as n, count(distinct hook_instance)::int as distinct_instances from invocation where hook_instance in (${instances})`)) as [Json];
    expect(calls).toEqual({ n: 1_000, distinct_instances: 1_000 });
    const [dets] = (await db.query(
      `select count(*)::int as n, count(distinct coverage_assertion_id)::int as ids from determination d join invocation i on i.id = d.invocation_id where i.hook_instance in (${instances})`,
    )) as [Json];
    expect(dets).toEqual({ n: 1_000, ids: 1_000 });
    const [recordedIds] = (await db.query(`select count(*)::int as n from determination where coverage_assertion_id in (${[...ids].map((id) => `'${String(id)}'`).join(',')})`)) as [Json];
    expect(recordedIds).toEqual({ n: 1_000 });
  }, 300_000);
});

describe('a replica whose PostgreSQL goes away for several seconds', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let proxy: TcpProxy;
  let replica: ServiceProcess;
  const count = async (instances: readonly string[]): Promise<number> =>
    ((await db.query(`select count(*)::int as n from invocation where hook_instance in (${instances.map((h) => `'${h}'`).join(',')})`)) as [{ n: number }])[0].n;

  beforeAll(async () => {
    db = await freshDatabase();
    proxy = await TcpProxy.start(Number(new URL(POSTGRES_URL).port || 5432));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    replica = await startServiceProcess(build.server, settings(url.toString()));
  }, 120_000);
  afterAll(async () => {
    await proxy.resume().catch(() => undefined);
    await replica?.stop();
    await proxy.stop();
    await db?.drop();
  });

  test('500 signings while the database is cut for several seconds: every one answered 200, and after recovery the store holds all 500', async () => {
    let cutAt = 0;
    let resumedAt = 0;
    const outage = (async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      await proxy.stop();
      cutAt = Date.now();
      await new Promise((r) => setTimeout(r, 5_000));
      await proxy.resume();
      resumedAt = Date.now();
    })();
    const answers = await pool(500, 4, async () => {
      const res = await sign(replica, meets);
      return { ...res, at: Date.now() };
    });
    await outage;
    expect(answers.filter((a) => a.status !== 200).map((a) => a.status)).toEqual([]);
    // Answered while the database was away: the hook did not wait for it.
    expect(answers.filter((a) => a.at > cutAt && a.at < resumedAt).length).toBeGreaterThan(0);
    expect(replica.lines.some((l) => l.msg === 'hook answered' && l.record === 'queued')).toBe(true);
    const instances = answers.map((a) => a.hookInstance);
    expect(await until(async () => (await count(instances)) === 500, 30_000)).toBe(true);
    const ready = (await (await fetch(`${replica.base}/readyz`)).json()) as Json;
    expect(ready).toMatchObject({ status: 'ready', queued: 0 });
  }, 180_000);

  test('SIGTERM with records still queued writes them before the process exits', async () => {
    await proxy.stop();
    const answers = await pool(20, 4, () => sign(replica, meets));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const queued = (await (await fetch(`${replica.base}/readyz`)).json()) as Json;
    expect(queued).toMatchObject({ status: 'degraded', queued: 20 });
    await proxy.resume();
    // The queue's retry is backing off: it is still full when the signal comes.
    expect(((await (await fetch(`${replica.base}/readyz`)).json()) as Json).queued).toBe(20);
    expect(await replica.stop()).toBe(0);
    expect(await count(answers.map((a) => a.hookInstance))).toBe(20);
    expect(replica.lines.some((l) => l.event === 'shutdown-complete' && l.queued === 0)).toBe(true);
  }, 60_000);
});
