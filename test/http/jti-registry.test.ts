import { randomUUID } from 'node:crypto';
import type { LogFields, Logger } from '../../src/logger.js';
import { LocalJtiRegistry, SharedJtiRegistry } from '../../src/http/jti-registry.js';
import { createStore } from '../../src/store/create-store.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { POSTGRES_URL } from '../support/store-engines.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testStore, testStoreConfig } from '../support/test-store.js';

/**
 * A client token's jti is accepted once across replicas (CDS Hooks 2.0.1 §Trusting CDS Clients, issue #13 §2),
 * checked against the real PostgreSQL; one replica reaches it through a proxy this test cuts.
 */
const ISS = 'https://ehr.example.org';
const lines: { fields: LogFields; msg: string }[] = [];
const logger: Logger = {
  info: (fields, msg) => lines.push({ fields, msg }),
  warn: (fields, msg) => lines.push({ fields, msg }),
  error: (fields, msg) => lines.push({ fields, msg }),
};
const direct = testStore();
let proxy: TcpProxy;
let cutStore: RecordStore;

beforeAll(async () => {
  await direct.health();
  proxy = await TcpProxy.start(Number(new URL(POSTGRES_URL).port || 5432));
  const url = new URL(POSTGRES_URL);
  url.port = String(proxy.port);
  cutStore = await createStore(testStoreConfig({}, url.toString()), logger, { schema: direct.schema, connectTimeoutMs: 500 });
});
afterAll(async () => {
  await proxy.resume().catch(() => undefined);
  await cutStore.close(2_000);
  await proxy.stop();
});
afterEach(async () => {
  await proxy.resume().catch(() => undefined);
  lines.length = 0;
});

const inFiveMinutes = (): number => Date.now() + 300_000;

test('one replica alone: a jti is refused the second time while its token lives, and accepted once it has expired', async () => {
  const local = new LocalJtiRegistry();
  const now = Date.now();
  expect(await local.claim(ISS, 'j1', now + 1_000, now)).toBe(true);
  expect(await local.claim(ISS, 'j1', now + 1_000, now + 500)).toBe(false);
  expect(await local.claim(ISS, 'j1', now + 5_000, now + 1_001)).toBe(true);
  expect(await local.claim('https://other.example.org', 'j1', now + 1_000, now)).toBe(true);
});

test('two replicas: a jti one accepted is refused by the other', async () => {
  const one = new SharedJtiRegistry(direct, logger, { timeoutMs: 2_000 });
  const two = new SharedJtiRegistry(direct, logger, { timeoutMs: 2_000 });
  const jti = randomUUID();
  expect(await one.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(true);
  expect(await two.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(false);
  expect(await one.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(false);
});

test('while the database is away a replica accepts a jti it has not seen, refuses one it has, and says so in the log', async () => {
  const cut = new SharedJtiRegistry(cutStore, logger, { timeoutMs: 250 });
  await proxy.stop();
  const jti = randomUUID();
  expect(await cut.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(true);
  expect(await cut.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(false);
  expect(cut.waiting).toBe(1);
  expect(lines.some((l) => l.fields.event === 'jti-unshared')).toBe(true);
  expect(JSON.stringify(lines)).not.toContain(jti);
});

test('once the database has failed to answer, the calls of the next second decide without asking it again', async () => {
  let asked = 0;
  const counting = { claimJti: (issuer: string, jti: string, at: number) => (asked++, cutStore.claimJti(issuer, jti, at)) };
  const cut = new SharedJtiRegistry(counting, logger, { timeoutMs: 250, backOffMs: 60_000 });
  await proxy.stop();
  for (let i = 0; i < 5; i++) {
    expect(await cut.claim(ISS, randomUUID(), inFiveMinutes(), Date.now())).toBe(true);
  }
  expect(asked).toBe(1);
  expect(cut.waiting).toBe(5);
});

test('jtis accepted during the outage are written when the database is back: the other replica then refuses them', async () => {
  const cut = new SharedJtiRegistry(cutStore, logger, { timeoutMs: 250, backOffMs: 0 });
  const other = new SharedJtiRegistry(direct, logger, { timeoutMs: 2_000 });
  await proxy.stop();
  const during = randomUUID();
  expect(await cut.claim(ISS, during, inFiveMinutes(), Date.now())).toBe(true);
  await proxy.resume();
  // The next call that reaches the database writes what waited.
  expect(await cut.claim(ISS, randomUUID(), inFiveMinutes(), Date.now())).toBe(true);
  for (let i = 0; i < 50 && cut.waiting > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(cut.waiting).toBe(0);
  expect(await other.claim(ISS, during, inFiveMinutes(), Date.now())).toBe(false);
});

test('a token replayed to a cut-off replica is accepted there, and logged as a replay once the database is back', async () => {
  const cut = new SharedJtiRegistry(cutStore, logger, { timeoutMs: 250, backOffMs: 0 });
  const other = new SharedJtiRegistry(direct, logger, { timeoutMs: 2_000 });
  const jti = randomUUID();
  expect(await other.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(true);
  await proxy.stop();
  expect(await cut.claim(ISS, jti, inFiveMinutes(), Date.now())).toBe(true);
  await proxy.resume();
  expect(await cut.claim(ISS, randomUUID(), inFiveMinutes(), Date.now())).toBe(true);
  for (let i = 0; i < 50 && !lines.some((l) => l.fields.event === 'jti-replayed'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(lines.filter((l) => l.fields.event === 'jti-replayed').map((l) => l.fields.issuer)).toEqual([ISS]);
});
