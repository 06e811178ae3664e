import { randomUUID } from 'node:crypto';
import { DAY_MS } from '../../src/facts/fhir-dates.js';
import { InvalidCursorError, type FeedbackRecord, type InvocationRecord, type InvocationSummary, type RecordStore } from '../../src/store/record-store.js';
import { assertionIdOf, sentResponse, signing } from '../support/records.js';
import { ENGINES, TestDatabase } from '../support/store-engines.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe.each(ENGINES)('the durable record on %s', (engine) => {
  const database = new TestDatabase(engine);
  let store: RecordStore;

  beforeAll(async () => {
    // Opening on a schema of its own applies the versioned migrations there.
    store = (await database.open()).store;
  });

  afterAll(async () => {
    await store.close();
    await database.dispose();
  });

  test('a signing recorded is durable before the call resolves, and its assertion reads back exactly as sent', async () => {
    const record = signing('meets-criteria', { receivedAt: NOW, clientIss: 'https://ehr.example.org' });
    expect(await store.recordInvocation(record)).toEqual({ state: 'durable' });

    const found = await store.getAssertion(assertionIdOf(record));
    expect(found?.invocation).toEqual(record);
    expect(found?.determination).toEqual(record.determinations[0]);
    // The body exactly as sent: same bytes, key order included.
    expect(JSON.stringify(found?.invocation.response)).toBe(JSON.stringify(record.response));
    expect(found?.feedback).toEqual([]);
  });

  test('a determination is found by its satisfied-pa-id as well as by its coverage-assertion-id', async () => {
    const record = signing('meets-criteria', { receivedAt: NOW });
    await store.recordInvocation(record);
    const paId = record.determinations[0]?.satisfiedPaId;
    expect(paId).toBeDefined();
    expect((await store.getAssertion(paId ?? ''))?.invocation.id).toBe(record.id);
  });

  test('a documentation-needed determination keeps its missing facts, note quote and span, and unread notes', async () => {
    const record = signing('documentation-needed', { receivedAt: NOW, unreadable: ['DocumentReference:timeout'] });
    await store.recordInvocation(record);
    const found = await store.getAssertion(assertionIdOf(record));
    expect(found?.determination.missing).toContain('rf.saddle-anesthesia');
    expect(found?.determination.evidence).toContainEqual({
      fact: 'fact.back-symptoms',
      reference: 'DocumentReference/pub-10-note',
      assertion: 'present',
      span: { in: 'HPI', start: 14, end: 37 },
      quote: 'low back pain x 10 days',
      source: 'note',
    });
    expect(found?.determination.notesUnread).toEqual({ 'unsupported-content-type': 1 });
    expect(found?.invocation.unreadable).toEqual(['DocumentReference:timeout']);
  });

  test('an assertion id nobody issued finds nothing', async () => {
    expect(await store.getAssertion(randomUUID())).toBeUndefined();
  });

  test('a call with no order in scope is recorded too, with no determination', async () => {
    const record: InvocationRecord = { ...signing('meets-criteria', { receivedAt: NOW - 5 }), orders: [], determinations: [], response: { cards: [] } };
    expect(await store.recordInvocation(record)).toEqual({ state: 'durable' });
    const page = await store.listInvocations({ limit: 200, until: NOW - 4, since: NOW - 5 });
    expect(page.items).toEqual([{ ...withoutResponse(record) }]);
  });

  test('text PostgreSQL cannot hold (a NUL) is kept as U+FFFD, while the response keeps it byte for byte', async () => {
    const base = signing('meets-criteria', { receivedAt: NOW });
    const record: InvocationRecord = { ...base, hookInstance: 'abc\u0000def', response: { cards: [], note: 'nul \u0000 here', lone: '\ud800' } };
    expect(await store.recordInvocation(record)).toEqual({ state: 'durable' });
    const found = await store.getAssertion(assertionIdOf(record));
    expect(found?.invocation.hookInstance).toBe('abc\uFFFDdef');
    expect(found?.invocation.response).toEqual({ cards: [], note: 'nul \u0000 here', lone: '\ud800' });
  });

  test('calls arriving together are all durable, written in shared transactions', async () => {
    const records = Array.from({ length: 40 }, (_, i) => signing(i % 2 === 0 ? 'meets-criteria' : 'documentation-needed', { receivedAt: NOW - 1000 - i }));
    const outcomes = await Promise.all(records.map((r) => store.recordInvocation(r)));
    expect(outcomes.every((o) => o.state === 'durable')).toBe(true);
    for (const r of records) {
      expect((await store.getAssertion(assertionIdOf(r)))?.invocation.id).toBe(r.id);
    }
  });

  test('the same record written twice (a retried commit) is kept once', async () => {
    const record = signing('does-not-meet-criteria', { receivedAt: NOW - 7 });
    await store.recordInvocation(record);
    expect(await store.recordInvocation(record)).toEqual({ state: 'durable' });
    const page = await store.listInvocations({ limit: 200, since: NOW - 7, until: NOW - 6 });
    expect(page.items.map((i) => i.id)).toEqual([record.id]);
  });

  describe('the invocation list', () => {
    const DAY = Date.parse('2026-06-01T00:00:00Z');
    let patient: string;
    let recorded: InvocationRecord[];

    beforeAll(async () => {
      patient = `list-${randomUUID().slice(0, 8)}`;
      // 25 calls a minute apart, two sharing a timestamp so that the id breaks the tie.
      recorded = Array.from({ length: 25 }, (_, i) =>
        signing((['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'] as const)[i % 3] ?? 'meets-criteria', {
          receivedAt: DAY + (i === 24 ? 23 : i) * 60_000,
          patientId: patient,
        }),
      );
      await Promise.all(recorded.map((r) => store.recordInvocation(r)));
    });

    const newestFirst = (list: readonly InvocationRecord[]): string[] =>
      [...list].sort((a, b) => b.receivedAt - a.receivedAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)).map((r) => r.id);

    test('pages newest first, ties broken by id, each call exactly once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listInvocations({ patientId: patient, limit: 7, ...(cursor !== undefined ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next;
      } while (cursor !== undefined);
      expect(seen).toEqual(newestFirst(recorded));
    });

    test('a cursor neither skips nor repeats a call while new calls are recorded between pages', async () => {
      // Newer calls for the same patient keep arriving, concurrently, while the reviewer pages.
      let paging = true;
      let arrived = 0;
      const arrivals = (async () => {
        while (paging) {
          await store.recordInvocation(signing('meets-criteria', { receivedAt: DAY + 3_600_000 + arrived++, patientId: patient }));
        }
      })();
      const seen: string[] = [];
      // The first page is read once the list has grown, so its cursor starts among the new arrivals.
      while (arrived < 3) {
        await new Promise((r) => setTimeout(r, 5));
      }
      let cursor: string | undefined;
      const first = await store.listInvocations({ patientId: patient, limit: 4 });
      const start = first.items.filter((i) => i.receivedAt < DAY + 3_600_000).map((i) => i.id);
      seen.push(...start);
      cursor = first.next;
      while (cursor !== undefined) {
        const page = await store.listInvocations({ patientId: patient, limit: 4, cursor });
        seen.push(...page.items.filter((i) => i.receivedAt < DAY + 3_600_000).map((i) => i.id));
        cursor = page.next;
      }
      paging = false;
      await arrivals;
      expect(arrived).toBeGreaterThan(3);
      expect(seen).toEqual(newestFirst(recorded));
    });

    test('filters by decision, patient and a half-open time window', async () => {
      const page = await store.listInvocations({ patientId: patient, decision: 'documentation-needed', since: DAY + 60_000, until: DAY + 10 * 60_000, limit: 200 });
      const expected = recorded.filter((r) => r.receivedAt >= DAY + 60_000 && r.receivedAt < DAY + 10 * 60_000 && r.determinations[0]?.decision === 'documentation-needed');
      expect(page.items.map((i) => i.id)).toEqual(newestFirst(expected));
      expect(page.next).toBeUndefined();
      expect(page.items.every((i: InvocationSummary) => !('response' in i))).toBe(true);
    });

    test('a cursor this service did not issue is refused', async () => {
      await expect(store.listInvocations({ limit: 5, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.listInvocations({ limit: 5, cursor: Buffer.from('[1,"x"]').toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });

  test('feedback on a card is recorded once per outcome, however often the client sends it', async () => {
    const record = signing('documentation-needed', { receivedAt: NOW });
    await store.recordInvocation(record);
    const card = record.determinations[0]?.cardUuid ?? '';
    const overridden: FeedbackRecord = {
      service: record.service,
      cardUuid: card,
      outcome: 'overridden',
      outcomeAt: NOW + 60_000,
      receivedAt: NOW + 61_000,
      acceptedSuggestions: [],
      overrideReason: { code: 'clinical-judgment', system: 'http://necessity.example.org/fhir/CodeSystem/override-reason' },
      userComment: 'patient already imaged elsewhere',
    };
    const accepted: FeedbackRecord = { service: record.service, cardUuid: card, outcome: 'accepted', outcomeAt: NOW + 1, receivedAt: NOW + 2, acceptedSuggestions: ['s-1'] };
    expect(await store.recordFeedback([overridden])).toBe(1);
    expect(await store.recordFeedback([overridden, overridden])).toBe(0);
    expect(await store.recordFeedback([accepted, overridden])).toBe(1);
    const found = await store.getAssertion(assertionIdOf(record));
    expect(found?.feedback).toEqual([accepted, overridden]);
  });

  test('a per-order questionnaire is served by the store until it expires, then not', async () => {
    const id = `q-${randomUUID()}`;
    const questionnaire = { resourceType: 'Questionnaire', id, status: 'active', item: [{ linkId: 'rf.saddle-anesthesia', type: 'boolean' }] };
    await store.putQuestionnaire(id, questionnaire, NOW + DAY_MS);
    expect(await store.getQuestionnaire(id, NOW)).toEqual(questionnaire);
    expect(await store.getQuestionnaire(id, NOW + DAY_MS - 1)).toEqual(questionnaire);
    expect(await store.getQuestionnaire(id, NOW + DAY_MS)).toBeUndefined();
    expect(await store.getQuestionnaire('never-issued', NOW)).toBeUndefined();
  });

  test('a jti is claimed once; a second claim while its token lives is refused, and one after it expired is accepted', async () => {
    const jti = randomUUID();
    const exp = Date.now() + 300_000;
    expect(await store.claimJti('https://ehr.example.org', jti, exp)).toBe(true);
    expect(await store.claimJti('https://ehr.example.org', jti, exp)).toBe(false);
    // Another issuer's jti of the same value is another token.
    expect(await store.claimJti('https://other-ehr.example.org', jti, exp)).toBe(true);
    const old = randomUUID();
    expect(await store.claimJti('https://ehr.example.org', old, Date.now() - 1_000)).toBe(true);
    expect(await store.claimJti('https://ehr.example.org', old, Date.now() + 300_000)).toBe(true);
  });

  test('a jti is accepted once across two stores on one database, even when both are asked at once', async () => {
    const { store: first, schema } = await database.open();
    const { store: second } = await database.open({ schema });
    try {
      const jti = randomUUID();
      const exp = Date.now() + 300_000;
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second).claimJti('https://ehr.example.org', jti, exp)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('retention cleanup deletes calls and feedback older than the retention, expired questionnaires and jtis, and keeps the rest', async () => {
    const { store: s } = await database.open({ overrides: { cleanupBatch: 3, cleanupPauseMs: 1 } });
    try {
      const retentionDays = 30;
      const old = Array.from({ length: 7 }, (_, i) => signing('documentation-needed', { receivedAt: NOW - 31 * DAY_MS - i }));
      const kept = Array.from({ length: 2 }, (_, i) => signing('meets-criteria', { receivedAt: NOW - 29 * DAY_MS - i }));
      await Promise.all([...old, ...kept].map((r) => s.recordInvocation(r)));
      await s.recordFeedback([
        { service: 'x', cardUuid: old[0]?.determinations[0]?.cardUuid ?? '', outcome: 'accepted', outcomeAt: NOW - 31 * DAY_MS, receivedAt: NOW - 31 * DAY_MS, acceptedSuggestions: [] },
        { service: 'x', cardUuid: kept[0]?.determinations[0]?.cardUuid ?? '', outcome: 'accepted', outcomeAt: NOW, receivedAt: NOW, acceptedSuggestions: [] },
      ]);
      await s.putQuestionnaire('expired', { resourceType: 'Questionnaire' }, NOW - 1);
      await s.putQuestionnaire('current', { resourceType: 'Questionnaire' }, NOW + DAY_MS);
      await s.claimJti('iss', 'expired', NOW - 1);
      await s.claimJti('iss', 'current', NOW + 60_000);

      const result = await s.cleanup(NOW, retentionDays);

      expect(result).toEqual({ invocations: 7, feedback: 1, questionnaires: 1, jtis: 1 });
      for (const r of old) {
        expect(await s.getAssertion(assertionIdOf(r))).toBeUndefined();
      }
      const survivor = await s.getAssertion(assertionIdOf(kept[0] as InvocationRecord));
      expect(survivor?.invocation.id).toBe(kept[0]?.id);
      expect(survivor?.feedback).toHaveLength(1);
      expect(await s.getQuestionnaire('current', NOW)).toEqual({ resourceType: 'Questionnaire' });
      expect((await s.listInvocations({ limit: 200 })).items.map((i) => i.id).sort()).toEqual(kept.map((r) => r.id).sort());
    } finally {
      await s.close();
    }
  });

  test('the store reports itself healthy with an empty queue', async () => {
    expect(await store.health()).toEqual({ status: 'ok', queued: 0 });
    expect(store.engine).toBe(engine);
  });
});

function withoutResponse(record: InvocationRecord): InvocationSummary {
  const { response: _response, ...summary } = record;
  return summary;
}

test('the recorded responses are the service’s real answers (fixtures have cards and CRD system actions)', () => {
  const body = sentResponse('meets-criteria') as { cards?: unknown[]; systemActions?: unknown[] };
  expect(body.cards).toHaveLength(1);
  expect(body.systemActions).toHaveLength(1);
});
