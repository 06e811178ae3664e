import type { RecordStore } from '../../src/store/record-store.js';
import { CPT_72148, CPT_72158, MIX, OVERRIDE_SYSTEM, dashboardMix, percentileCont, type Mix } from '../support/dashboard-mix.js';
import { ENGINES, TestDatabase } from '../support/store-engines.js';

const FIRST_DAY = Date.parse('2026-11-01T00:00:00Z');
const DAY_MS = 86_400_000;

describe.each(ENGINES)('the reviewers’ dashboard questions over the record, on %s', (engine) => {
  const database = new TestDatabase(engine);
  let store: RecordStore;
  let mix: Mix;
  let period: { since: number; until: number };

  beforeAll(async () => {
    store = (await database.open()).store;
    mix = dashboardMix(FIRST_DAY);
    for (const r of mix.records) {
      expect(await store.recordInvocation(r)).toEqual({ state: 'durable' });
    }
    expect(await store.recordFeedback(mix.feedback)).toBe(MIX.overrides + MIX.acceptedMeets + MIX.acceptedDocumentationNeeded + MIX.acceptedDoesNotMeet);
    // A call outside the period, which no figure may count.
    const outside = dashboardMix(FIRST_DAY - 40 * DAY_MS).records[0];
    if (outside) await store.recordInvocation(outside);
    period = { since: mix.since, until: mix.until };
  });

  afterAll(async () => {
    await store.close();
    await database.dispose();
  });

  test('per UTC day, six orders met criteria, three needed documentation and one did not, ten days running', async () => {
    const rows = await store.decisionsPerDay(period);
    expect(rows).toHaveLength(MIX.days * 3);
    expect(rows.slice(0, 3)).toEqual([
      { day: '2026-11-01', decision: 'documentation-needed', determinations: 3 },
      { day: '2026-11-01', decision: 'does-not-meet-criteria', determinations: 1 },
      { day: '2026-11-01', decision: 'meets-criteria', determinations: 6 },
    ]);
    const total = (d: string): number => rows.filter((r) => r.decision === d).reduce((s, r) => s + r.determinations, 0);
    expect([total('meets-criteria'), total('documentation-needed'), total('does-not-meet-criteria')]).toEqual([MIX.meets, MIX.documentationNeeded, MIX.doesNotMeet]);
  });

  test('a half-open period counts the days inside it only, and an order code narrows to that code', async () => {
    const twoDays = await store.decisionsPerDay({ since: FIRST_DAY + DAY_MS, until: FIRST_DAY + 3 * DAY_MS });
    expect(new Set(twoDays.map((r) => r.day))).toEqual(new Set(['2026-11-02', '2026-11-03']));
    const on72158 = await store.decisionsPerDay({ ...period, orderCode: CPT_72158 });
    expect(on72158.every((r) => r.decision === 'meets-criteria')).toBe(true);
    expect(on72158.reduce((s, r) => s + r.determinations, 0)).toBe(MIX.meetsOn72158);
  });

  test('the period’s order codes, by decision, whatever code the reviewer chose', async () => {
    expect(await store.orderCodes({ ...period, orderCode: CPT_72158 })).toEqual([
      { orderCode: CPT_72148, decision: 'documentation-needed', determinations: MIX.documentationNeeded },
      { orderCode: CPT_72148, decision: 'does-not-meet-criteria', determinations: MIX.doesNotMeet },
      { orderCode: CPT_72148, decision: 'meets-criteria', determinations: MIX.meets - MIX.meetsOn72158 },
      { orderCode: CPT_72158, decision: 'meets-criteria', determinations: MIX.meetsOn72158 },
    ]);
  });

  test('where the evidence came from: each determination once, by the exact set of its sources', async () => {
    const rows = await store.factSources(period);
    const of = (decision: string, sources: string[]): number => rows.find((r) => r.decision === decision && r.sources.join('+') === sources.join('+'))?.determinations ?? 0;
    expect(of('meets-criteria', ['code'])).toBe(MIX.meetsByCodes);
    expect(of('meets-criteria', ['code', 'note'])).toBe(MIX.meetsByCodesAndNotes);
    expect(of('meets-criteria', ['answer'])).toBe(MIX.meetsByAnswers);
    expect(of('documentation-needed', ['code', 'note'])).toBe(MIX.documentationNeeded);
    expect(of('does-not-meet-criteria', ['code'])).toBe(MIX.doesNotMeet);
    expect(rows.reduce((s, r) => s + r.determinations, 0)).toBe(MIX.determinations);
  });

  test('the questions clinicians were asked most: new or worsening symptoms 18 times, conservative care 12', async () => {
    const missing = await store.missingFacts(period, 10);
    expect(missing.documentationNeeded).toBe(MIX.documentationNeeded);
    expect(missing.facts[0]).toEqual({ fact: 'fact.new-or-worsening-symptoms', determinations: MIX.missingNewSymptoms });
    expect(missing.facts).toContainEqual({ fact: 'fact.conservative-care-4wk', determinations: MIX.missingConservativeCare });
    expect(missing.facts).toHaveLength(7);
    expect((await store.missingFacts(period, 2)).facts).toHaveLength(2);
  });

  test('feedback per decision: accepted and overridden cards counted once per determination', async () => {
    const rows = await store.feedbackByDecision(period);
    expect(new Set(rows)).toEqual(
      new Set([
        { decision: 'meets-criteria', determinations: MIX.meets, accepted: MIX.acceptedMeets, overridden: 0 },
        { decision: 'documentation-needed', determinations: MIX.documentationNeeded, accepted: MIX.acceptedDocumentationNeeded, overridden: MIX.overridesDocumentationNeeded },
        { decision: 'does-not-meet-criteria', determinations: MIX.doesNotMeet, accepted: MIX.acceptedDoesNotMeet, overridden: MIX.overridesDoesNotMeet },
      ]),
    );
    expect(rows.find((r) => r.decision === 'meets-criteria')).toEqual({ decision: 'meets-criteria', determinations: 60, accepted: 40, overridden: 0 });
  });

  test('a repeated feedback item changes no figure', async () => {
    expect(await store.recordFeedback(mix.feedback.slice(0, 5))).toBe(0);
    const rows = await store.feedbackByDecision(period);
    expect(rows.reduce((s, r) => s + r.overridden, 0)).toBe(MIX.overrides);
  });

  test('override reasons, per decision: urgent clinical need four times, documented elsewhere three', async () => {
    const rows = await store.overrideReasons(period);
    expect(rows).toEqual([
      { decision: 'documentation-needed', code: 'documented-elsewhere', system: OVERRIDE_SYSTEM, overrides: 3 },
      { decision: 'documentation-needed', code: 'urgent-clinical-need', system: OVERRIDE_SYSTEM, overrides: 2 },
      { decision: 'does-not-meet-criteria', code: 'urgent-clinical-need', system: OVERRIDE_SYSTEM, overrides: 2 },
    ]);
    const by = (code: string): number => rows.filter((r) => r.code === code).reduce((s, r) => s + r.overrides, 0);
    expect([by('urgent-clinical-need'), by('documented-elsewhere')]).toEqual([MIX.overridesUrgent, MIX.overridesDocumentedElsewhere]);
  });

  test('overrides per criterion: all five documentation-needed overrides were on orders missing conservative care', async () => {
    const rows = await store.overridesByCriterion(period);
    expect(rows).toContainEqual({ kind: 'missing', id: 'fact.conservative-care-4wk', determinations: MIX.missingConservativeCare, overridden: MIX.overridesDocumentationNeeded });
    expect(rows).toContainEqual({ kind: 'missing', id: 'fact.new-or-worsening-symptoms', determinations: MIX.missingNewSymptoms, overridden: 0 });
    // does-not-meet's two overrides were on orders whose card said repeat imaging within 3 months was satisfied.
    expect(rows).toContainEqual({ kind: 'satisfied', id: 'non.recent-imaging', determinations: MIX.doesNotMeet, overridden: MIX.overridesDoesNotMeet });
    const first = rows[0];
    expect(first?.overridden).toBe(MIX.overrides);
    expect(first?.id).toBe('fact.back-symptoms');
  });

  test('FHIR failures by resource type and kind: two Condition timeouts and one DocumentReference timeout', async () => {
    expect(await store.fhirFailures(period)).toEqual({
      invocations: MIX.determinations,
      withFailure: 3,
      failures: [
        { resourceType: 'Condition', failure: 'timeout', invocations: MIX.conditionTimeouts },
        { resourceType: 'DocumentReference', failure: 'timeout', invocations: MIX.documentReferenceTimeouts },
      ],
    });
    // Narrowed to CPT 72158: only the calls that decided such an order (the DocumentReference timeout was one).
    const narrowed = await store.fhirFailures({ ...period, orderCode: CPT_72158 });
    expect(narrowed).toEqual({ invocations: MIX.meetsOn72158, withFailure: 1, failures: [{ resourceType: 'DocumentReference', failure: 'timeout', invocations: 1 }] });
  });

  test('hook duration per day: the median and 95th percentile of that day’s calls, to a hundredth of a millisecond', async () => {
    const rows = await store.hookDurations(period);
    expect(rows).toHaveLength(MIX.days);
    for (const [day, row] of rows.entries()) {
      const values = Array.from({ length: 10 }, (_v, k) => mix.durationOf(day * 10 + k));
      expect(row.invocations).toBe(10);
      expect(row.p50Ms).toBeCloseTo(percentileCont(values, 0.5), 2);
      expect(row.p95Ms).toBeCloseTo(percentileCont(values, 0.95), 2);
    }
    expect(rows[0]).toEqual({ day: '2026-11-01', invocations: 10, p50Ms: 42.5, p95Ms: 62.75 });
  });

  test('notes not read, by reason: summed over the determinations', async () => {
    expect(await store.notesUnread(period)).toEqual([
      { reason: 'unsupported-content-type', notes: MIX.notesUnsupported, determinations: MIX.documentationNeeded },
      { reason: 'timeout', notes: MIX.notesTimedOut, determinations: MIX.notesTimedOutDeterminations },
    ]);
  });

  test('the table pages newest first without skipping or repeating, and a line opens its determination', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listDeterminations({ ...period, limit: 7, ...(cursor !== undefined ? { cursor } : {}) });
      seen.push(...page.items.map((l) => l.id));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(MIX.determinations);
    expect(new Set(seen).size).toBe(MIX.determinations);
    const newest = mix.records[MIX.determinations - 1];
    const first = (await store.listDeterminations({ ...period, limit: 1 })).items[0];
    expect(first).toMatchObject({ id: `${newest?.id}.0`, patientId: newest?.patientId, decision: 'does-not-meet-criteria', orderCode: CPT_72148, feedback: [] });
    expect(first?.receivedAt).toBe(newest?.receivedAt);

    const overridden = await store.listDeterminations({ ...period, decision: 'does-not-meet-criteria', limit: 200 });
    expect(overridden.items).toHaveLength(MIX.doesNotMeet);
    expect(overridden.items.filter((l) => l.feedback.includes('overridden'))).toHaveLength(MIX.overridesDoesNotMeet);

    const opened = await store.getDetermination(first?.id ?? '');
    expect(opened?.invocation.id).toBe(newest?.id);
    expect(opened?.determination).toEqual(newest?.determinations[0]);
    expect(JSON.stringify(opened?.invocation.response)).toBe(JSON.stringify(newest?.response));
    expect(await store.getDetermination(`${newest?.id}.1`)).toBeUndefined();
    expect(await store.getDetermination('not-a-line-id')).toBeUndefined();
  });

  test('a period with nothing in it answers zeros and empty lists, never an error', async () => {
    const empty = { since: FIRST_DAY - 400 * DAY_MS, until: FIRST_DAY - 300 * DAY_MS };
    expect(await store.decisionsPerDay(empty)).toEqual([]);
    expect(await store.missingFacts(empty, 10)).toEqual({ documentationNeeded: 0, facts: [] });
    expect(await store.fhirFailures(empty)).toEqual({ invocations: 0, withFailure: 0, failures: [] });
    expect(await store.listDeterminations({ ...empty, limit: 50 })).toEqual({ items: [] });
  });
});
