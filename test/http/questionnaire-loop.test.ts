import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Questionnaire, QuestionnaireItem, Resource } from 'fhir/r4.js';
import { askableFacts } from '../../src/cds/questionnaire.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { determinations, responseProblems } from '../support/conformance.js';
import { condition, daysAgo, order, procedure, planCoverage } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { loadScenarios } from '../support/scenarios.js';
import { testApp } from '../support/service.js';

const app = testApp();
const SERVICE = '/cds-services/cohere-lumbar-mri';
const CRD = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
const token = randomUUID();
const scenarios = loadScenarios();
let fhir: FhirTestServer;

beforeAll(async () => {
  const patients: Resource[] = ['back-pain', 'all-no', 'spectro'].map((id) => ({ resourceType: 'Patient', id, birthDate: '1960-01-01' }) as Resource);
  const backPain = (pid: string): Resource => ({ ...condition('M54.50', { onset: daysAgo(40) }), subject: { reference: `Patient/${pid}` } }) as Resource;
  fhir = await startFhirTestServer({ token, resources: [...scenarios.flatMap((s) => [s.patient, ...s.resources]), ...patients, ...['back-pain', 'all-no', 'spectro'].map((id) => planCoverage(id) as Resource), backPain('back-pain'), backPain('all-no'), backPain('spectro')] });
});
afterAll(async () => {
  await fhir.close();
});

async function sign(patientId: string, draftOrders: Resource[], hook: 'order-sign' | 'order-select' = 'order-sign'): Promise<Record<string, any>> {
  const res = await request(app).post(SERVICE).send(hookRequest({ hook, patientId, draftOrders, fhirServer: fhir.baseUrl, token }));
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  return res.body as Record<string, any>;
}

/** Fetches a questionnaire the card links to, through the service itself. */
async function fetchQuestionnaire(url: string): Promise<Questionnaire> {
  const res = await request(app).get(new URL(url).pathname);
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as Questionnaire;
}

function booleanItems(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => (i.type === 'boolean' ? [i] : booleanItems(i.item)));
}

describe('a documentation-needed card comes with a questionnaire of exactly the missing facts', () => {
  const needing = scenarios.filter((s) => s.expect.decision === 'documentation-needed');

  test.each(needing.map((s) => [`${s.id}: ${s.title}`, s] as const))('%s', async (_name, s) => {
    const body = await sign(s.patient.id ?? '', s.draftOrders);
    const det = determinations(body)[0] as { missing: string[] };
    const card = body.cards[0];
    const link = card.links.find((l: { label: string }) => /still needed/.test(l.label));
    const q = await fetchQuestionnaire(link.url);
    expect(booleanItems(q.item).map((i) => i.linkId).sort()).toEqual([...det.missing].sort());
    expect(q.url).toContain('cohere-ma-mri-lumbar-spine');
    expect(`${q.url}|${q.version}`).toMatch(/cohere-ma-mri-lumbar-spine.*\|1\.1$/);
    expect(q.version).toBe('1.1');
    const ci = body.systemActions[0].resource.extension.find((e: { url: string }) => e.url === CRD).extension;
    expect(ci.find((e: { url: string }) => e.url === 'questionnaire').valueCanonical).toBe(`${q.url}|${q.version}`);
    expect(ci.find((e: { url: string }) => e.url === 'doc-needed').valueCode).toBe('clinical');
    const suggestion = card.suggestions[0];
    expect(suggestion).toMatchObject({ label: expect.any(String), uuid: expect.any(String), isRecommended: true });
    expect(suggestion.actions[0]).toMatchObject({ type: 'create', description: expect.any(String), resource: { resourceType: 'QuestionnaireResponse', status: 'in-progress' } });
  });

  test('every item is a boolean in the policy words, grouped, with what documentation supports it', async () => {
    const body = await sign('back-pain', [order()]);
    const q = await fetchQuestionnaire(body.cards[0].links[0].url);
    expect(q.item?.map((g) => g.text)).toEqual(expect.arrayContaining(['Red flags', 'Conservative management']));
    const saddle = booleanItems(q.item).find((i) => i.linkId === 'rf.saddle-anesthesia');
    expect(saddle?.text).toBe('Saddle anesthesia');
    expect(saddle?.item?.[0]?.text).toContain('saddle-area numbness');
  });

  test('the companion questionnaire asks every criterion; fetched without the EHR\'s credential it pre-answers nothing from the record', async () => {
    const s = scenarios.find((x) => x.id === 'pub-10');
    const body = await sign(s?.patient.id ?? '', s?.draftOrders ?? []);
    const full = await fetchQuestionnaire(body.cards[0].links.find((l: { label: string }) => /every criterion/.test(l.label)).url);
    const items = booleanItems(full.item);
    expect(items.map((i) => i.linkId)).toEqual(askableFacts(loadPolicy().policy));
    expect(items.every((i) => i.initial === undefined)).toBe(true);
    expect(JSON.stringify(full)).not.toContain('On record');
  });

  test("the policy's full questionnaire is served by its id", async () => {
    const q = await fetchQuestionnaire('http://x/Questionnaire/cohere-ma-mri-lumbar-spine');
    expect(booleanItems(q.item)).toHaveLength(askableFacts(loadPolicy().policy).length);
    expect(booleanItems(q.item).every((i) => i.initial === undefined)).toBe(true);
  });

  test('an unknown questionnaire is 404', async () => {
    expect((await request(app).get('/Questionnaire/cohere-ma-mri-lumbar-spine-v1-1-nope')).status).toBe(404);
  });
});

describe('answers complete the determination', () => {
  async function answer(patientId: string, questionnaireCanonical: string, values: Record<string, boolean>): Promise<void> {
    const qr = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: questionnaireCanonical,
      subject: { reference: `Patient/${patientId}` },
      authored: new Date().toISOString(),
      item: [{ linkId: 'answers', item: Object.entries(values).map(([linkId, valueBoolean]) => ({ linkId, answer: [{ valueBoolean }] })) }],
    };
    const res = await fetch(`${fhir.baseUrl}/QuestionnaireResponse`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: JSON.stringify(qr) });
    expect(res.status).toBe(201);
  }

  test('documentation needed, then "saddle anesthesia: yes" meets criteria, and the card says it rests on attestation', async () => {
    const first = await sign('back-pain', [order()]);
    expect(determinations(first)[0]?.decision).toBe('documentation-needed');
    const q = await fetchQuestionnaire(first.cards[0].links[0].url);
    await answer('back-pain', `${q.url}|${q.version}`, { 'rf.saddle-anesthesia': true });
    const second = await sign('back-pain', [order()]);
    const det = determinations(second)[0] as { decision: string; satisfied: string[]; evidence: { fact: string; reference: string }[] };
    expect(det.decision).toBe('meets-criteria');
    expect(det.satisfied).toContain('rf.saddle-anesthesia');
    expect(det.evidence.find((e) => e.fact === 'rf.saddle-anesthesia')?.reference).toMatch(/^QuestionnaireResponse\//);
    expect(second.cards[0].detail).toContain('**Saddle anesthesia**: attested by the clinician, answered yes');
  });

  test('documentation needed, then every question answered no, does not meet criteria', async () => {
    const first = await sign('all-no', [order()]);
    const det = determinations(first)[0] as { missing: string[] };
    const q = await fetchQuestionnaire(first.cards[0].links[0].url);
    await answer('all-no', `${q.url}|${q.version}`, Object.fromEntries(det.missing.map((id) => [id, false])));
    const second = await sign('all-no', [order()]);
    expect(determinations(second)[0]?.decision).toBe('does-not-meet-criteria');
    expect(second.cards[0].summary).toBe('Lumbar MRI does not meet criteria: no indication documented');
  });
});

describe('suggestions where they help the clinician act', () => {
  test('MR spectroscopy that does not meet criteria proposes a lumbar MRI instead: delete, then create 72148', async () => {
    const spectro = order('76390', { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] });
    const body = await sign('spectro', [spectro]);
    const card = body.cards[0];
    expect(card.selectionBehavior).toBe('at-most-one');
    const s = card.suggestions[0];
    expect(s.isRecommended).toBe(true);
    expect(s.actions.map((a: { type: string }) => a.type)).toEqual(['delete', 'create']);
    // CDS Hooks 2.0.1 §Action: a delete SHOULD give resourceId; the order itself rides along as `resource` (an
    // object, which the spec permits), where the Da Vinci CRD request generator looks for the target.
    expect(s.actions[0].resourceId).toBe(`ServiceRequest/${spectro.id ?? ''}`);
    expect(s.actions[0].resource).toMatchObject({ resourceType: 'ServiceRequest', id: spectro.id, code: spectro.code });
    expect(`${s.actions[0].resource.resourceType}/${s.actions[0].resource.id}`).toBe(s.actions[0].resourceId);
    expect(s.actions[1].resource.code.coding[0].code).toBe('72148');
    expect(s.actions[1].resource.id).not.toBe(spectro.id);
    expect(s.actions[1].resourceId).toBeUndefined();
    expect(s.actions.every((a: { description?: string }) => typeof a.description === 'string')).toBe(true);
  });

  test('MR angiography (72159) of the lumbar spine is offered the same alternate', async () => {
    const mra = order('72159', { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] });
    const body = await sign('spectro', [mra]);
    expect(body.cards[0].suggestions[0].label).toContain('72148');
  });

  test('a card that meets criteria suggests nothing', async () => {
    const s = scenarios.find((x) => x.id === 'pub-01');
    const body = await sign(s?.patient.id ?? '', s?.draftOrders ?? []);
    expect(body.cards[0].suggestions).toBeUndefined();
  });
});
