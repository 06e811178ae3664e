import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import type { Condition, ImagingStudy, Medication, MedicationRequest, Resource, ServiceRequest } from 'fhir/r4.js';
import { determinations, responseProblems } from '../support/conformance.js';
import { RXNORM, answers, condition, daysAgo, lumbarStudy, order, planCoverage } from '../support/clinical.js';
import { fulfilPrefetch, hookRequest, type DiscoveredService } from '../support/ehr.js';
import { clearFaults, startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { testApp } from '../support/service.js';

/**
 * The data real EHRs send, over HTTP against a real FHIR server: prescriptions that name their medication by
 * reference (contained, `_include`d, or read by the service), and codes sent by OID (SPEC §2 Codes, §4.1).
 */
const token = randomUUID();
const ICD_OID = 'urn:oid:2.16.840.1.113883.6.90';
const CPT_OID = 'urn:oid:2.16.840.1.113883.6.12';
let fhir: FhirTestServer;
let app: Express;
let service: DiscoveredService;

const naproxenProduct: Medication = {
  resourceType: 'Medication',
  id: 'naproxen-500',
  code: { coding: [{ system: RXNORM, code: '198013', display: 'Naproxen 500 MG Oral Tablet' }], text: 'Naproxen 500 MG Oral Tablet' },
};
const containedNaproxen: Medication = { resourceType: 'Medication', id: 'med', code: { coding: [{ system: RXNORM, code: '7258', display: 'naproxen' }] } };
const lisinopril: Medication = { resourceType: 'Medication', id: 'lisinopril', code: { coding: [{ system: RXNORM, code: '29046', display: 'lisinopril' }] } };

function forPatient<T extends Resource>(r: T, patientId: string): T {
  return { ...r, subject: { reference: `Patient/${patientId}` } } as T;
}

/** A prescription written `ago` days ago that names its medication by reference. */
function prescription(patientId: string, reference: string, ago: number, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: `rx-${patientId}`,
    status: 'active',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationReference: { reference },
    authoredOn: daysAgo(ago),
    ...extra,
  };
}

function backPain(patientId: string): Condition {
  return forPatient(condition('M54.50', { onset: daysAgo(90) }), patientId);
}

/** Patients, each one path: low back pain and five weeks of naproxen prescribed by reference. */
const PATIENTS = ['contained', 'included', 'read', 'unreadable', 'missing', 'other-drug', 'oid'] as const;
const records: Resource[] = [
  naproxenProduct,
  lisinopril,
  ...PATIENTS.map((id) => ({ resourceType: 'Patient', id, birthDate: '1961-04-04' }) as Resource),
  ...PATIENTS.map((id) => planCoverage(id)),
  ...PATIENTS.filter((id) => id !== 'oid').map(backPain),
  prescription('contained', '#med', 35, { contained: [containedNaproxen] }),
  prescription('included', 'Medication/naproxen-500', 35),
  prescription('read', 'Medication/naproxen-500', 35),
  prescription('other-drug', 'Medication/lisinopril', 35),
  // A lumbar MRI 40 days ago, naproxen started after it, and the clinician's answer: nothing new since.
  ...(['unreadable', 'missing'] as const).flatMap((id) => [
    forPatient(lumbarStudy(daysAgo(40)), id) as ImagingStudy,
    forPatient(answers({ 'fact.new-or-worsening-symptoms': false }), id),
  ]),
  prescription('unreadable', 'Medication/naproxen-500', 30),
  prescription('missing', 'Medication/no-such-medication', 30),
  forPatient(
    { ...condition('Z85.46', { clinical: 'resolved', onset: daysAgo(2000) }), code: { coding: [{ system: ICD_OID, code: 'Z8546', display: 'Personal history of malignant neoplasm of prostate' }] } },
    'oid',
  ),
];

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: records });
  app = testApp();
  const services = ((await request(app).get('/cds-services')).body as { services: DiscoveredService[] }).services;
  service = services.find((s) => s.hook === 'order-sign') as DiscoveredService;
});
afterAll(async () => {
  await fhir.close();
});
afterEach(() => {
  clearFaults(fhir);
});

/** An order for a lumbar MRI for low back pain. */
function lumbarMri(patientId: string, code: ServiceRequest['code'] = undefined): ServiceRequest {
  return forPatient(order('72148', code ? { code } : {}), patientId);
}

/** Signs the order; `prefetch` as the EHR fills it from the discovery templates, or a query that leaves out the _include. */
async function sign(patientId: string, mode: 'prefetch' | 'prefetch-without-include' | 'fetch', draft = lumbarMri(patientId)): Promise<Record<string, any>> {
  const templates = { ...(service.prefetch ?? {}) };
  if (mode === 'prefetch-without-include') {
    templates.medicationRequests = (templates.medicationRequests ?? '').replace(/&_include=[^&]*/, '');
  }
  const prefetch = mode === 'fetch' ? undefined : await fulfilPrefetch(templates, { patientId, userId: 'Practitioner/ordering-physician' }, fhir.baseUrl, token);
  fhir.requests.length = 0;
  const res = await request(app)
    .post(`/cds-services/${service.id}`)
    .send(hookRequest({ hook: 'order-sign', patientId, draftOrders: [draft], fhirServer: fhir.baseUrl, token, ...(prefetch ? { prefetch } : {}) }));
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  return res.body as Record<string, any>;
}

function decision(body: Record<string, any>): string | undefined {
  return (determinations(body)[0] as { decision?: string } | undefined)?.decision;
}

describe('a prescription that names its medication by reference counts as medicationCodeableConcept would (SPEC §4.1)', () => {
  test('five weeks of naproxen in a contained Medication are four weeks of conservative care: meets criteria', async () => {
    const body = await sign('contained', 'prefetch');
    expect(decision(body)).toBe('meets-criteria');
    expect(body.cards[0].detail).toContain('naproxen, RxNorm 7258');
  });

  test('a Medication the EHR brought by the prefetch _include is recognised by its ingredient name, with no extra read', async () => {
    const body = await sign('included', 'prefetch');
    expect(decision(body)).toBe('meets-criteria');
    expect(body.cards[0].detail).toContain('Naproxen 500 MG Oral Tablet');
    expect(fhir.requests).toEqual([]);
  });

  test('without prefetch, the service searches with the _include and needs no read of the Medication', async () => {
    const body = await sign('included', 'fetch');
    expect(decision(body)).toBe('meets-criteria');
    expect(fhir.requests.some((r) => r.startsWith('GET MedicationRequest?') && r.includes('_include=MedicationRequest'))).toBe(true);
    expect(fhir.requests.some((r) => r.startsWith('GET Medication/'))).toBe(false);
  });

  test('a Medication the EHR left out of prefetch is read from the FHIR server by reference', async () => {
    const body = await sign('read', 'prefetch-without-include');
    expect(decision(body)).toBe('meets-criteria');
    expect(fhir.requests).toEqual(['GET Medication/naproxen-500']);
  });

  test('a referenced Medication that is not a conservative-care drug (lisinopril) is no conservative care', async () => {
    const body = await sign('other-drug', 'prefetch-without-include');
    expect(decision(body)).toBe('documentation-needed');
    expect(body.cards[0].detail).not.toContain('lisinopril');
  });
});

describe('a Medication that cannot be read never settles a fact against the patient', () => {
  test('with the naproxen readable, treatment after the MRI 40 days ago rules the repeat-imaging non-indication out', async () => {
    const body = await sign('unreadable', 'prefetch-without-include');
    expect(decision(body)).toBe('meets-criteria');
  });

  test('when the FHIR server fails to return the Medication, treatment since the MRI is unknown: documentation needed, not "does not meet"', async () => {
    fhir.faults.status = { type: 'Medication', code: 500 };
    const body = await sign('unreadable', 'prefetch-without-include');
    expect(decision(body)).toBe('documentation-needed');
    expect(body.cards[0].detail).toContain('medications: the FHIR server returned an error');
  });

  test('a Medication that does not exist names no drug: with no treatment since the MRI, the repeat imaging does not meet criteria', async () => {
    const body = await sign('missing', 'prefetch-without-include');
    expect(fhir.requests).toEqual(['GET Medication/no-such-medication']);
    expect(decision(body)).toBe('does-not-meet-criteria');
  });
});

describe('codes sent by OID, over HTTP', () => {
  test('a lumbar MRI ordered by the CPT OID for a patient whose prostate cancer history is coded by the ICD-10-CM OID, dotless, meets criteria', async () => {
    const draft = lumbarMri('oid', { coding: [{ system: CPT_OID, code: '72148', display: 'MRI lumbar spine without contrast' }] });
    for (const mode of ['prefetch', 'fetch'] as const) {
      const body = await sign('oid', mode, draft);
      expect(decision(body)).toBe('meets-criteria');
      expect(body.cards[0].summary).toContain('history of cancer');
      expect(body.cards[0].detail).toContain('ICD-10-CM Z8546');
    }
  });
});
