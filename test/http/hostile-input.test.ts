import fc from 'fast-check';
import request from 'supertest';
import type { Resource } from 'fhir/r4.js';
import { responseProblems, determinations } from '../support/conformance.js';
import { condition, daysAgo, order, quantity, temperature, weight, planCoverage } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { testApp } from '../support/service.js';

const app = testApp();
const SERVICE = '/cds-services/cohere-lumbar-mri';
const KEYS = ['patient', 'coverage', 'conditions', 'observations', 'imagingStudies', 'procedures', 'medicationRequests', 'serviceRequests', 'diagnosticReports', 'questionnaireResponses', 'documentReferences'];

function searchset(resources: unknown[]): Record<string, unknown> {
  return { resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) };
}

/** Prefetch for a member of the configured plan (SPEC §7.1) with these resources. */
function prefetchOf(resources: Resource[]): Record<string, unknown> {
  const byKey: Record<string, string> = {
    Coverage: 'coverage', Condition: 'conditions', Observation: 'observations', ImagingStudy: 'imagingStudies', Procedure: 'procedures',
    MedicationRequest: 'medicationRequests', ServiceRequest: 'serviceRequests', DiagnosticReport: 'diagnosticReports', QuestionnaireResponse: 'questionnaireResponses',
    DocumentReference: 'documentReferences',
  };
  const prefetch: Record<string, unknown> = { patient: { resourceType: 'Patient', id: 'pat', birthDate: '1960-01-01' } };
  for (const key of KEYS.slice(1)) {
    prefetch[key] = searchset(resources.filter((r) => byKey[r.resourceType] === key));
  }
  if (!resources.some((r) => r.resourceType === 'Coverage')) {
    prefetch.coverage = searchset([planCoverage()]);
  }
  return prefetch;
}

const sign = (body: unknown): request.Test => request(app).post(SERVICE).set('content-type', 'application/json').send(JSON.stringify(body));

describe('the hook never throws and never answers 5xx, whatever JSON it is sent (property-based)', () => {
  test('arbitrary JSON bodies get a 2xx or 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const res = await sign(body);
        return res.status < 500;
      }),
      { numRuns: 200 },
    );
  });

  test('well-formed calls with arbitrary prefetch contents get 200 with a valid response, or a 4xx', async () => {
    const attachmentLike = fc.record(
      {
        contentType: fc.oneof(fc.constantFrom('text/plain', 'text/html; charset=utf-8', 'application/pdf'), fc.jsonValue()),
        data: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')), fc.jsonValue()),
        url: fc.oneof(fc.constantFrom('Binary/1', '#b', 'http://other.example/Binary/1', '//x'), fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const resourceLike = fc.record(
      {
        resourceType: fc.constantFrom('Condition', 'Observation', 'Procedure', 'MedicationRequest', 'ImagingStudy', 'DiagnosticReport', 'ServiceRequest', 'QuestionnaireResponse', 'Coverage', 'DocumentReference', 'Bundle'),
        id: fc.string(),
        status: fc.oneof(fc.string(), fc.jsonValue()),
        subject: fc.oneof(fc.constant({ reference: 'Patient/pat' }), fc.jsonValue()),
        code: fc.oneof(fc.record({ coding: fc.array(fc.record({ system: fc.string(), code: fc.oneof(fc.string(), fc.jsonValue()) })) }), fc.jsonValue()),
        clinicalStatus: fc.jsonValue(),
        onsetDateTime: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
        valueQuantity: fc.oneof(fc.record({ value: fc.double(), code: fc.string() }), fc.jsonValue()),
        performedPeriod: fc.jsonValue(),
        item: fc.jsonValue(),
        entry: fc.jsonValue(),
        // Notes and narrative reports (SPEC §8.1): attachments of any shape, data of any text.
        content: fc.oneof(fc.array(fc.record({ attachment: attachmentLike })), fc.jsonValue()),
        presentedForm: fc.oneof(fc.array(attachmentLike), fc.jsonValue()),
        conclusion: fc.oneof(fc.string(), fc.jsonValue()),
        docStatus: fc.oneof(fc.constantFrom('final', 'entered-in-error'), fc.jsonValue()),
        date: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.jsonValue()),
        contained: fc.jsonValue(),
      },
      { requiredKeys: ['resourceType'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.constant(null), resourceLike, fc.array(resourceLike).map(searchset))), fc.array(fc.jsonValue(), { maxLength: 3 }), async (prefetch, extraOrders) => {
        const body = hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order(), ...(extraOrders as unknown as Resource[])], prefetch });
        const res = await sign(body);
        if (res.status === 200) {
          return responseProblems(res.body as Record<string, unknown>).length === 0;
        }
        return res.status >= 400 && res.status < 500;
      }),
      { numRuns: 150 },
    );
  });
});

describe('hostile and odd input', () => {
  test('keys named __proto__ and constructor are plain data', async () => {
    const body = hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchOf([condition('Z85.46')]) });
    const text = JSON.stringify(body).replace('"hookInstance"', '"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"hookInstance"');
    const res = await request(app).post(SERVICE).set('content-type', 'application/json').send(text);
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  test('JSON nested 10,000 levels deep is refused with 400', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await request(app).post(SERVICE).set('content-type', 'application/json').send(`{"hook":"order-sign","x":${deep}}`);
    expect(res.status).toBe(400);
  });
  test('wrong types in the context are refused naming the field', async () => {
    const body = hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchOf([]) });
    (body.context as Record<string, unknown>).draftOrders = { resourceType: 'Bundle', entry: 'lots' };
    const res = await sign(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['context.draftOrders.entry']);
  });
  test('prefetch resources of another patient or the wrong type are never counted', async () => {
    const otherPatients = { ...condition('Z85.46'), subject: { reference: 'Patient/someone-else' } };
    const wrongType = { ...temperature(39.5, daysAgo(1)) };
    const prefetch = prefetchOf([]);
    prefetch.conditions = searchset([otherPatients, wrongType]);
    const res = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch }));
    expect(res.status).toBe(200);
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied ?? []).not.toEqual(expect.arrayContaining(['rf.cancer-history']));
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied ?? []).not.toEqual(expect.arrayContaining(['rf.fever']));
  });
  test('1,000 draft orders, all lumbar MRIs, get 1,000 determinations', async () => {
    const orders = Array.from({ length: 1000 }, () => order());
    const res = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: orders, prefetch: prefetchOf([condition('M54.50')]) }));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1000);
  });
  test('a 20,000-resource prefetch under the 5 MB limit is read and decided', async () => {
    // Compact resources (about 200 bytes each) so that 20,000 fit under the body limit.
    const vital = (i: number, loinc: string, value: number, unit: string, days: number): Resource =>
      ({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: loinc }] }, effectiveDateTime: daysAgo(days).slice(0, 10), valueQuantity: { value, code: unit } }) as Resource;
    const many: Resource[] = [
      ...Array.from({ length: 10_000 }, (_, i) => vital(i, '8310-5', 36.5 + (i % 30) / 10, 'Cel', i % 400)),
      ...Array.from({ length: 5_000 }, (_, i) => vital(10_000 + i, '29463-7', 80 - (i % 7), 'kg', i % 300)),
      ...Array.from({ length: 5_000 }, (_, i) => ({ resourceType: 'Condition', id: `c${i}`, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: i % 2 ? 'J06.9' : 'M54.50' }] }, onsetDateTime: daysAgo(i % 1000).slice(0, 10) }) as Resource),
    ];
    const body = hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchOf(many) });
    expect(JSON.stringify(body).length).toBeLessThan(5 * 1024 * 1024);
    const res = await sign(body);
    expect(res.status).toBe(200);
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied).toEqual(expect.arrayContaining(['rf.fever', 'rf.weight-loss']));
  });
  test.each([
    ['a year', '2026'],
    ['a year and month', '2026-11'],
    ['a date', daysAgo(3).slice(0, 10)],
    ['a dateTime with zone', daysAgo(3).replace('Z', '+05:30')],
    ['a dateTime without zone', daysAgo(3).replace(/\.\d+Z$/, '')],
    ['a dateTime with fractional seconds', daysAgo(3)],
  ])('a fever dated with %s is read', async (_form, when) => {
    const res = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchOf([temperature(39.2, when)]) }));
    expect(res.status).toBe(200);
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied).toContain('rf.fever');
  });
  test('an impossible date (2026-02-30) is no date at all', async () => {
    const res = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], prefetch: prefetchOf([temperature(39.2, '2026-02-30')]) }));
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied ?? []).not.toContain('rf.fever');
  });
  test('codes in odd case and with whitespace are still recognised', async () => {
    const resources = [condition(' z85.46 '), quantity(' 8310-5 ', 39, 'Cel', daysAgo(1))];
    const res = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order(' 72148 ')], prefetch: prefetchOf(resources) }));
    expect(determinations(res.body as Record<string, unknown>)[0]?.satisfied).toEqual(expect.arrayContaining(['rf.cancer-history', 'rf.fever']));
  });
});
