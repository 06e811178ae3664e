import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { responseProblems } from '../support/conformance.js';
import { hookRequest } from '../support/ehr.js';
import { condition, daysAgo, order } from '../support/clinical.js';
import { testApp } from '../support/service.js';

const app = testApp();
const SERVICE = '/cds-services/cohere-lumbar-mri';
const capturedDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'captured-requests');

function prefetchWith(resources: unknown[]): Record<string, unknown> {
  const bundle = (type: string): unknown => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.filter((r) => (r as { resourceType: string }).resourceType === type).map((resource) => ({ resource })),
  });
  return {
    patient: { resourceType: 'Patient', id: 'pat', birthDate: '1960-01-01' },
    coverage: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Coverage', id: 'cov', status: 'active', beneficiary: { reference: 'Patient/pat' }, payor: [{ display: 'Example Medicare Advantage Plan' }] } }] },
    conditions: bundle('Condition'),
    observations: bundle('Observation'),
    imagingStudies: null,
    procedures: bundle('Procedure'),
    medicationRequests: bundle('MedicationRequest'),
    serviceRequests: null,
    diagnosticReports: null,
    questionnaireResponses: null,
    documentReferences: null,
  };
}

describe('discovery (CDS Hooks §Discovery)', () => {
  test('each hook has its own service id, order-sign keeping cohere-lumbar-mri, all with the same prefetch templates', async () => {
    const res = await request(app).get('/cds-services');
    expect(res.status).toBe(200);
    const services = (res.body as { services: { id: string; hook: string; prefetch: Record<string, string> }[] }).services;
    expect(services.map((s) => `${s.id}:${s.hook}`).sort()).toEqual([
      'cohere-lumbar-mri-appointment:appointment-book',
      'cohere-lumbar-mri-dispatch:order-dispatch',
      'cohere-lumbar-mri-select:order-select',
      'cohere-lumbar-mri:order-sign',
    ]);
    for (const s of services) {
      expect(Object.keys(s.prefetch).sort()).toEqual(
        ['conditions', 'coverage', 'diagnosticReports', 'documentReferences', 'imagingStudies', 'medicationRequests', 'observations', 'patient', 'procedures', 'questionnaireResponses', 'serviceRequests'].sort(),
      );
      for (const [key, template] of Object.entries(s.prefetch)) {
        // Restricted to the patient, inside the CDS Hooks query subset; prescriptions bring their Medications (SPEC
        // §4.1) and the coverage search its payers (SPEC §7.1).
        const include = key === 'medicationRequests' ? '&_include=MedicationRequest:medication' : key === 'coverage' ? '&_include=Coverage:payor' : '';
        expect(template.replace(include, '')).toMatch(/^(Patient\/\{\{context\.patientId\}\}|[A-Za-z]+\?patient=\{\{context\.patientId\}\})$/);
        expect(template.endsWith(include)).toBe(true);
      }
    }
  });
});

describe('bad requests get a 4xx with an OperationOutcome naming the field', () => {
  const valid = (): Record<string, unknown> => hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchWith([]) });

  test('a request without context.patientId is refused with 400 naming context.patientId', async () => {
    const body = valid();
    delete (body.context as Record<string, unknown>).patientId;
    const res = await request(app).post(SERVICE).send(body);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['context.patientId']);
  });
  test('draftOrders that is not a Bundle is refused naming context.draftOrders.resourceType', async () => {
    const body = valid();
    (body.context as Record<string, unknown>).draftOrders = { resourceType: 'ServiceRequest' };
    const res = await request(app).post(SERVICE).send(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['context.draftOrders.resourceType']);
  });
  test('an unsupported hook is refused naming hook', async () => {
    const res = await request(app).post(SERVICE).send({ ...valid(), hook: 'patient-view' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['hook']);
  });
  test('order-select without selections is refused naming context.selections', async () => {
    const res = await request(app).post(SERVICE).send({ ...valid(), hook: 'order-select' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['context.selections']);
  });
  test('a prefetch value that is a string is refused naming the key', async () => {
    const body = valid();
    (body.prefetch as Record<string, unknown>).conditions = 'Condition?patient=pat';
    const res = await request(app).post(SERVICE).send(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['prefetch.conditions']);
  });
  test('a patient id that is not a FHIR id is refused', async () => {
    const body = valid();
    (body.context as Record<string, unknown>).patientId = '../Patient/x?_format=xml';
    expect((await request(app).post(SERVICE).send(body)).status).toBe(400);
  });
  test('malformed JSON is refused with 400', async () => {
    const res = await request(app).post(SERVICE).set('content-type', 'application/json').send('{"hook": "order-sign",');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.coding[0].code).toBe('MALFORMED_JSON');
  });
  test('a body over the size limit is refused with 413', async () => {
    const small = testApp({ bodyLimit: '10kb' });
    const res = await request(small).post(SERVICE).set('content-type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(20_000) }));
    expect(res.status).toBe(413);
  });
  test('an unknown service id is 404', async () => {
    const res = await request(app).post('/cds-services/cervical-mri').send(valid());
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
  test('unknown fields are ignored', async () => {
    const res = await request(app).post(SERVICE).send({ ...valid(), somethingNew: { a: 1 }, extension: { 'davinci-crd.configuration': { 'alt-drug': true } } });
    expect(res.status).toBe(200);
  });
  test('neither prefetch nor fhirServer is 412 Precondition Failed', async () => {
    const res = await request(app).post(SERVICE).send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()] }));
    expect(res.status).toBe(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
  test('no in-scope order answers an empty card list without needing data', async () => {
    const res = await request(app).post(SERVICE).send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order('70551')] }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });
});

describe('requests captured from real clients are tolerated', () => {
  const files = readdirSync(capturedDir).filter((f) => f.endsWith('.json') && !f.includes('jwks'));
  test.each(files)('%s answers 200 with a valid response', async (file) => {
    const captured = JSON.parse(readFileSync(join(capturedDir, file), 'utf8')) as { body: Record<string, unknown> };
    // Their FHIR server is not running here: the service must still answer, saying what it could not check.
    const res = await request(testApp({ fhirTimeoutMs: 1000 })).post(SERVICE).send(captured.body);
    expect(res.status).toBe(200);
    expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  });
});

describe('the card, as the ordering clinician sees it', () => {
  const sign = async (resources: unknown[], o = order()): Promise<Record<string, any>> => {
    const res = await request(app).post(SERVICE).send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [o], prefetch: prefetchWith(resources) }));
    expect(res.status).toBe(200);
    expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
    return res.body as Record<string, any>;
  };

  test('a history of cancer meets criteria with an info card naming it and its evidence', async () => {
    const hx = condition('Z85.46', { clinical: 'resolved', display: 'Personal history of malignant neoplasm of prostate' });
    const body = await sign([hx]);
    const card = body.cards[0];
    expect(card.summary).toBe('Lumbar MRI meets Medicare Advantage criteria: history of cancer');
    expect(card.indicator).toBe('info');
    expect(card.detail).toContain('ICD-10-CM Z85.46');
    expect(card.detail).toContain(`Condition/${hx.id}`);
    expect(card.overrideReasons).toBeUndefined();
    expect(card.links[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/policies\/cohere-ma-mri-lumbar-spine$/);
    expect(card.links[1]).toEqual({ label: 'Policy clause Indications ¶1: red flag', url: `${card.links[0].url}#indications-1`, type: 'absolute' });
  });
  test('the detail carries no link: the policy and its clause are card links, which open beside the EHR, not in place of it', async () => {
    const body = await sign([condition('Z85.46', { clinical: 'resolved' })]);
    expect(body.cards[0].detail).not.toMatch(/\]\(|https?:\/\//);
    expect(body.cards[0].links.map((l: { url: string }) => new URL(l.url).hash)).toEqual(['', '#indications-1']);
  });
  test('six weeks of physical therapy meets criteria: the span is "documented", and nothing is listed as needed', async () => {
    const pt = { resourceType: 'Procedure', id: 'pt', status: 'completed', subject: { reference: 'Patient/pat' }, code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97110' }] }, performedPeriod: { start: daysAgo(50), end: daysAgo(8) } };
    const body = await sign([condition('M54.50', { onset: daysAgo(70) }), pt]);
    const detail: string = body.cards[0].detail;
    expect(body.cards[0].summary).toContain('meets');
    expect(detail).toMatch(/\*\*Symptoms persist despite at least 4 weeks of conservative management\*\*: documented: 42 days, from /);
    expect(detail).not.toContain('so far');
    expect(detail).not.toContain('Documentation needed');
    expect(body.cards[0].links.at(-1).url).toMatch(/#indications-3$/);
  });
  test('ten days of therapy: the span is listed under what is needed, "documented so far"', async () => {
    const pt = { resourceType: 'Procedure', id: 'pt', status: 'completed', subject: { reference: 'Patient/pat' }, code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97110' }] }, performedPeriod: { start: daysAgo(20), end: daysAgo(10) } };
    const body = await sign([condition('M54.50', { onset: daysAgo(70) }), pt]);
    expect(body.cards[0].detail).toContain('- Symptoms persist despite at least 4 weeks of conservative management (documented so far: 10 days, from ');
  });
  test('plain back pain asks for 4 weeks of conservative care or a red flag, as a plain list in the policy words', async () => {
    const body = await sign([condition('M54.50', { onset: daysAgo(70) })]);
    const card = body.cards[0];
    expect(card.summary).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    expect(card.indicator).toBe('warning');
    expect(card.detail).toContain('\n- Symptoms persist despite at least 4 weeks of conservative management');
    expect(card.detail).toContain('\n- Saddle anesthesia');
    // Task-list boxes show as literal brackets (the CDS Hooks sandbox) or dead checkboxes: none.
    expect(card.detail).not.toContain('[ ]');
    expect(card.overrideReasons.length).toBeGreaterThan(0);
    const ci = body.systemActions[0].resource.extension[0];
    const reason = ci.extension.find((e: { url: string }) => e.url === 'reason');
    expect(reason.valueCodeableConcept.text).toContain('conservative management');
  });
  test('MR spectroscopy does not meet criteria and says why', async () => {
    const o = order('76390', { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] });
    const body = await sign([condition('M54.50')], o);
    expect(body.cards[0].summary).toBe('Lumbar MRI does not meet criteria: MR spectroscopy is not covered');
    expect(body.cards[0].detail).toContain('For purposes of spectroscopy');
  });
  test('a patient with no coverage at all gets a card without a determination and a not-covered, coverage-not-found action', async () => {
    const res = await request(app)
      .post(SERVICE)
      .send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: { ...prefetchWith([condition('Z85.46')]), coverage: null } }));
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.cards[0].extension['necessity.determination']).toBeUndefined();
    expect(res.body.cards[0].summary).toContain('No coverage found');
    const parts = res.body.systemActions[0].resource.extension[0].extension as { url: string; valueCode?: string; valueCodeableConcept?: { coding: { code: string }[] } }[];
    expect(parts.find((p) => p.url === 'covered')?.valueCode).toBe('not-covered');
    expect(parts.find((p) => p.url === 'reason')?.valueCodeableConcept?.coding[0]?.code).toBe('coverage-not-found');
  });
  test('every card has a summary under 140 characters', async () => {
    const body = await sign([condition('M54.50'), condition('F11.20'), condition('M51.36')]);
    expect(body.cards[0].summary.length).toBeLessThan(140);
  });
});

describe('feedback (CDS Hooks §Feedback)', () => {
  test('an override with a reason is accepted with 200, twice', async () => {
    const feedback = { feedback: [{ card: 'c1', outcome: 'overridden', overrideReason: { reason: { code: 'urgent-clinical-need', system: 'x' }, userComment: 'note' }, outcomeTimestamp: '2026-11-23T10:00:00Z' }] };
    expect((await request(app).post(`${SERVICE}/feedback`).send(feedback)).status).toBe(200);
    expect((await request(app).post(`${SERVICE}/feedback`).send(feedback)).status).toBe(200);
  });
  test('accepted feedback without acceptedSuggestions is refused naming the field', async () => {
    const res = await request(app).post(`${SERVICE}/feedback`).send({ feedback: [{ card: 'c1', outcome: 'accepted', outcomeTimestamp: '2026-11-23T10:00:00Z' }] });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['feedback.0.acceptedSuggestions']);
  });
  test('an unknown outcome is refused', async () => {
    const res = await request(app).post(`${SERVICE}/feedback`).send({ feedback: [{ card: 'c1', outcome: 'ignored', outcomeTimestamp: '2026-11-23T10:00:00Z' }] });
    expect(res.status).toBe(400);
  });
});
