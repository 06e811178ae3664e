import { loadConfig } from '../../src/config.js';
import { seedDemoHistory } from '../../src/demo/history.js';
import { silentLogger } from '../../src/logger.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { TestDatabase } from '../support/store-engines.js';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-11-30T15:00:00Z');

describe('the demo writes a month of history into an empty record, once', () => {
  const database = new TestDatabase('pglite');
  let store: RecordStore;
  const config = loadConfig({ CDS_AUTH: 'off', CDS_REVIEWER_TOKENS: 'r'.repeat(40) });
  const month = { since: NOW - 30 * DAY_MS, until: NOW + 1 };

  beforeAll(async () => {
    store = (await database.open()).store;
  });

  afterAll(async () => {
    await store.close();
    await database.dispose();
  });

  test('a fresh record gets thirty days of real responses: every decision, FHIR failures, answers, feedback', async () => {
    const result = await seedDemoHistory(store, config, silentLogger, NOW);
    expect(result.seeded).toBe(true);
    expect(result.invocations).toBeGreaterThan(400);
    const days = await store.decisionsPerDay(month);
    expect(new Set(days.map((d) => d.day)).size).toBe(30);
    expect(new Set(days.map((d) => d.decision))).toEqual(new Set(['meets-criteria', 'documentation-needed', 'does-not-meet-criteria']));
    const failures = await store.fhirFailures(month);
    expect(failures.withFailure).toBeGreaterThan(0);
    expect(failures.failures.map((f) => f.failure)).toEqual(expect.arrayContaining(['server-error', 'timeout']));
    const sources = await store.factSources(month);
    expect(sources.some((s) => s.sources.includes('answer'))).toBe(true);
    // The demo's note patients: their deciding facts come from notes, recorded with the quote the card showed.
    expect(sources.some((s) => s.sources.includes('note'))).toBe(true);
    // The scanned letter of one demo patient: notes not read, by reason.
    expect((await store.notesUnread(month)).map((n) => n.reason)).toContain('unsupported-format');
    const feedback = await store.feedbackByDecision(month);
    expect(feedback.reduce((n, f) => n + f.accepted, 0)).toBeGreaterThan(0);
    expect(feedback.reduce((n, f) => n + f.overridden, 0)).toBeGreaterThan(0);
    // Every recorded card is one the service sent: opening a line shows its card.
    const line = (await store.listDeterminations({ ...month, limit: 1 })).items[0];
    const opened = await store.getDetermination(line?.id ?? '');
    expect(JSON.stringify(opened?.invocation.response)).toContain(opened?.determination.cardUuid ?? 'no card');
    // Renamed together: the recorded assertion id is the one on the order in the recorded response.
    expect(JSON.stringify(opened?.invocation.response)).toContain(opened?.determination.coverageAssertionId ?? 'no assertion');
  }, 120_000);

  test('a restart finds the record holding calls and writes nothing more', async () => {
    const before = await store.decisionsPerDay(month);
    expect(await seedDemoHistory(store, config, silentLogger, NOW + 60_000)).toEqual({ seeded: false, invocations: 0, feedback: 0 });
    expect(await store.decisionsPerDay(month)).toEqual(before);
  });
});
