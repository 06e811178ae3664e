import { randomUUID } from 'node:crypto';
import type { Patient, Resource } from 'fhir/r4.js';
import { loadCardTemplates } from '../../src/cds/card-templates.js';
import { loadCoverageCardTemplates } from '../../src/cds/coverage-cards.js';
import { loadServiceDefinitions, prefetchTemplates } from '../../src/cds/discovery.js';
import { requestValidators, type HookRequest } from '../../src/cds/hook-request.js';
import { invocationRecord } from '../../src/cds/invocation-record.js';
import { createOrderHook, type OrderHookResult } from '../../src/cds/order-hook.js';
import { loadConfigurationOptions } from '../../src/crd/configuration.js';
import { loadPlans } from '../../src/crd/plans.js';
import { fhirKitReader } from '../../src/fhir/fhir-reader.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import type { InvocationRecord } from '../../src/store/record-store.js';
import { NOW, answers, condition, daysAgo, order, planCoverage } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { note } from '../support/notes.js';
import { prefetchOf } from '../support/prefetch.js';

const loaded = loadPolicy();
const definition = loadServiceDefinitions().find((d) => d.hooks.includes('order-sign'));
const prefetch = prefetchTemplates(definition ?? ({} as never));
const validate = requestValidators(prefetch.map((p) => p.key));
const hook = createOrderHook({
  loaded,
  templates: loadCardTemplates(),
  prefetch,
  // No FHIR server is reached: the prefetch holds the whole record.
  gather: { readerFactory: fhirKitReader, deadlineMs: 2_000, maxPages: 10 },
  mirrorSystemActions: false,
  questionnaires: { served: () => Promise.resolve(new Set<string>()) },
  plans: loadPlans(),
  crdOptions: loadConfigurationOptions(),
  coverageCards: loadCoverageCardTemplates(),
});

const TOKEN = `ehr-access-token-${randomUUID()}`;
/** A patient whose record carries details no card shows: they must never reach the record either. */
const person: Patient = {
  resourceType: 'Patient',
  id: 'pat',
  birthDate: '1958-03-14',
  name: [{ family: 'Quillfeather', given: ['Ysolde'] }],
  address: [{ line: ['742 Evergreen Terrace'], city: 'Springfield' }],
  telecom: [{ system: 'phone', value: '555-0143' }],
};
/** Sentences of a clinical note no card quotes. */
const NOTE_SENTENCES = ['Her husband Bartholomew drove her in today.', 'She worries about the mortgage on the lake house.'];

async function signed(resources: Resource[], extra: { prefetch?: Record<string, unknown> } = {}): Promise<{ request: HookRequest; result: OrderHookResult; record: InvocationRecord }> {
  const body = hookRequest({
    hook: 'order-sign',
    patientId: 'pat',
    draftOrders: [order()],
    // The EHR's token and server come with the call; nothing is read from them (the prefetch is complete).
    fhirServer: 'https://ehr.invalid/fhir',
    token: TOKEN,
    prefetch: extra.prefetch ?? prefetchOf(person, [planCoverage('pat'), ...resources]),
  });
  const checked = validate.hookRequest(JSON.parse(JSON.stringify(body)));
  if (!checked.ok) {
    throw new Error(checked.message);
  }
  const result = await hook(checked.value, NOW, 'https://necessity.example.org');
  const record = invocationRecord(loaded.policy, { id: randomUUID(), receivedAt: NOW, service: 'cohere-lumbar-mri', request: checked.value, durationMs: 3.21, clientIss: 'https://ehr.example.org' }, result);
  return { request: checked.value, result, record };
}

type Json = Record<string, any>;
const coverageParts = (response: object, index = 0): Json[] => ((response as Json).systemActions[index].resource.extension as Json[]).find((e) => /coverage-information/.test(e.url))?.extension as Json[];
const part = (parts: Json[], url: string): string | undefined => parts.find((p) => p.url === url)?.valueString ?? parts.find((p) => p.url === url)?.valueCode;

describe('the record of a hook call says what was decided, for whom, under which policy, exactly as answered', () => {
  test('a met order: its card, its coverage-assertion-id and satisfied-pa-id, covered, the indication that holds and its coded evidence', async () => {
    const { request, result, record } = await signed([{ ...condition('Z85.46', { onset: daysAgo(900) }), id: 'hx' }, { ...condition('M54.50', { onset: daysAgo(40) }), id: 'lbp' }]);
    expect(record).toMatchObject({ hook: 'order-sign', hookInstance: request.hookInstance, service: 'cohere-lumbar-mri', clientIss: 'https://ehr.example.org', patientId: 'pat', receivedAt: NOW, durationMs: 3.21 });
    expect(record.policy).toEqual({ id: loaded.policy.id, version: loaded.policy.version });
    expect(record.orders).toEqual(result.decided.map((d) => d.determination.orderReference));
    const [det] = record.determinations;
    const parts = coverageParts(result.response);
    expect(det).toMatchObject({
      decision: 'meets-criteria',
      orderCode: 'http://www.ama-assn.org/go/cpt|72148',
      cardUuid: result.response.cards[0]?.uuid,
      coverageAssertionId: part(parts, 'coverage-assertion-id'),
      satisfiedPaId: part(parts, 'satisfied-pa-id'),
      covered: 'covered',
      mainReason: 'ind.red-flag',
      missing: [],
    });
    expect(det?.coverageAssertionId).toMatch(/^necessity-/);
    expect(det?.satisfied).toEqual(expect.arrayContaining(['ind.red-flag', 'rf.cancer-history']));
    expect(det?.evidence).toEqual(expect.arrayContaining([{ fact: 'rf.cancer-history', reference: 'Condition/hx', source: 'code' }]));
    // The response is the one sent: the same object, written as JSON.stringify writes it.
    expect(record.response).toBe(result.response);
  });

  test('a documentation-needed order: its missing facts, the first as main reason, and conditional coverage naming the questionnaire', async () => {
    const { result, record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }]);
    const [det] = record.determinations;
    expect(det?.decision).toBe('documentation-needed');
    expect(det?.missing.length).toBeGreaterThan(0);
    expect(det?.mainReason).toBe(det?.missing[0]);
    expect(det?.covered).toBe('conditional');
    expect(det?.satisfiedPaId).toBeUndefined();
    expect(result.questionnaires).toHaveLength(1);
    expect(part(coverageParts(result.response), 'coverage-assertion-id')).toBe(det?.coverageAssertionId);
  });

  test('a fact the clinician answered is evidence from the answer, not from coded data', async () => {
    const answered = answers({ 'rf.saddle-anesthesia': true });
    const { record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, answered]);
    const det = record.determinations[0];
    expect(det?.decision).toBe('meets-criteria');
    expect(det?.evidence).toEqual(expect.arrayContaining([{ fact: 'rf.saddle-anesthesia', reference: `QuestionnaireResponse/${answered.id ?? ''}`, source: 'answer' }]));
  });

  test('a red flag documented in a note is recorded as note evidence: its assertion, its span and the quote the card showed', async () => {
    const ed = note('Patient reports new saddle anesthesia since this morning.', { id: 'ed', type: 'ED note' });
    const { result, record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, ed]);
    const det = record.determinations[0];
    expect(det?.decision).toBe('meets-criteria');
    const item = det?.evidence.find((e) => e.fact === 'rf.saddle-anesthesia');
    expect(item).toMatchObject({ reference: 'DocumentReference/ed', assertion: 'affirmed', source: 'note', quote: 'Patient reports new saddle anesthesia since this morning.' });
    expect(item?.span).toMatchObject({ start: expect.any(Number), end: expect.any(Number) });
    // The quote is the one the card showed.
    expect(JSON.stringify(result.response.cards)).toContain(item?.quote);
  });

  test('a denial in a note is recorded as negated note evidence', async () => {
    const ros = note('ROS: Denies saddle anesthesia.', { id: 'ros' });
    const { record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, ros]);
    const item = record.determinations[0]?.evidence.find((e) => e.fact === 'rf.saddle-anesthesia');
    expect(item).toMatchObject({ reference: 'DocumentReference/ros', assertion: 'negated', source: 'note' });
  });

  test('"Denies night pain or pain worse lying flat" is quoted once on the card, and both of its mentions are recorded with that quote', async () => {
    const ros = note('MSK: Denies night pain or pain worse lying flat.', { id: 'ros' });
    const { result, record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, ros]);
    const detail = (result.response.cards[0] as { detail: string }).detail;
    expect(detail.split('Denies night pain or pain worse lying flat.').length - 1).toBe(1);
    expect(detail).not.toMatch(/more mention/);
    const items = record.determinations[0]?.evidence.filter((e) => e.fact === 'rf.night-pain-supine') ?? [];
    expect(items).toHaveLength(2);
    expect(items.map((e) => e.quote)).toEqual(['MSK: Denies night pain or pain worse lying flat.', 'MSK: Denies night pain or pain worse lying flat.']);
  });

  test('mentions beyond the three a card quotes keep their span but no quote', async () => {
    const notes = [1, 2, 3, 4, 5].map((i) => note(`Visit ${i}: saddle anesthesia persists.`, { id: `n${i}`, date: daysAgo(i) }));
    const { record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, ...notes]);
    const items = record.determinations[0]?.evidence.filter((e) => e.fact === 'rf.saddle-anesthesia') ?? [];
    expect(items).toHaveLength(5);
    expect(items.filter((e) => e.quote !== undefined)).toHaveLength(3);
    expect(items.every((e) => e.source === 'note' && e.span !== undefined)).toBe(true);
  });

  test('notes that could not be read are counted by reason', async () => {
    const pdf = note('', { content: [{ contentType: 'application/pdf', data: Buffer.from('%PDF-1.4').toString('base64') }] });
    const { record } = await signed([{ ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp' }, pdf]);
    expect(record.determinations[0]?.notesUnread).toEqual({ 'unsupported-format': 1 });
  });

  test('a call with no lumbar MRI order is recorded with no determination', async () => {
    const body = hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order('70551')], prefetch: prefetchOf(person, [planCoverage('pat')]) });
    const checked = validate.hookRequest(body);
    if (!checked.ok) {
      throw new Error(checked.message);
    }
    const result = await hook(checked.value, NOW, 'https://necessity.example.org');
    const record = invocationRecord(loaded.policy, { id: randomUUID(), receivedAt: NOW, service: 'cohere-lumbar-mri', request: checked.value, durationMs: 1 }, result);
    expect(record).toMatchObject({ orders: [], determinations: [], response: { cards: [] } });
    expect(record.clientIss).toBeUndefined();
  });
});

describe('the record never carries the access token, the prefetch, or note text a card did not show', () => {
  test('scanning the whole serialised record finds none of them', async () => {
    const noted = note(`Low back pain for ten days. ${NOTE_SENTENCES.join(' ')}`, { id: 'progress' });
    const lbp: Resource = { ...condition('M54.50', { onset: daysAgo(10) }), id: 'lbp', note: [{ text: 'Private remark written only in the prefetch' }] } as Resource;
    const { request, record } = await signed([lbp, noted]);
    // The call carried every one of them (the note's text as base64, as EHRs send it).
    const sent = JSON.stringify(request);
    expect([TOKEN, 'Quillfeather', '742 Evergreen', 'Private remark'].every((v) => sent.includes(v))).toBe(true);
    const text = JSON.stringify(record);
    expect(text).not.toContain(TOKEN);
    for (const privateValue of ['Quillfeather', 'Ysolde', '742 Evergreen', '555-0143', '1958-03-14', 'Private remark', ...NOTE_SENTENCES]) {
      expect({ privateValue, found: text.includes(privateValue) }).toEqual({ privateValue, found: false });
    }
    // The note is named by reference only where the card named it; its text is nowhere.
    expect(text).not.toContain(Buffer.from(NOTE_SENTENCES[0] ?? '').toString('base64').slice(0, 24));
  });
});
