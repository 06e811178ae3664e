import request from 'supertest';
import type { Questionnaire, Resource } from 'fhir/r4.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ageInYears, parseFhirDate, type FhirDate } from '../../src/facts/fhir-dates.js';
import { condition, daysAgo, order, planCoverage } from '../support/clinical.js';
import { hookRequest } from '../support/ehr.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { testApp } from '../support/service.js';

/** Issue #12 §6: in production nothing travels over plain http, and nothing unauthenticated carries the record. */
const BASE = 'https://cds.example.org';
const SERVICE = '/cds-services/cohere-lumbar-mri';
const httpsClient = JSON.stringify([{ iss: 'https://ehr.example.org', jku: 'https://ehr.example.org/jwks.json' }]);
const httpClient = JSON.stringify([{ iss: 'http://ehr.local', jku: 'http://ehr.local/jwks.json' }]);

describe('plain http in production', () => {
  test('a trusted client whose keys would be fetched over http stops the service from starting', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', CDS_TRUSTED_CLIENTS: httpClient })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', CDS_TRUSTED_CLIENTS: httpClient })).toThrow(/jku of http:\/\/ehr\.local is plain http/);
  });
  test('on a closed network CDS_ALLOW_INSECURE_HTTP=on lets it start, and lets fhirServer be http', () => {
    const config = loadConfig({ NODE_ENV: 'production', CDS_TRUSTED_CLIENTS: httpClient, CDS_ALLOW_INSECURE_HTTP: 'on', CDS_REVIEWER_API: 'off' });
    expect(config.requireHttps).toBe(false);
  });
  test('https keys start in production, which then requires https everywhere', () => {
    expect(loadConfig({ NODE_ENV: 'production', CDS_TRUSTED_CLIENTS: httpsClient, CDS_REVIEWER_API: 'off' }).requireHttps).toBe(true);
  });
  test('outside production, http is allowed (local sandboxes and the demo run on loopback http)', () => {
    expect(loadConfig({ CDS_TRUSTED_CLIENTS: httpClient }).requireHttps).toBe(false);
  });
  test('a setting that is neither on nor off is refused', () => {
    expect(() => loadConfig({ CDS_ALLOW_INSECURE_HTTP: 'yes' })).toThrow(/CDS_ALLOW_INSECURE_HTTP/);
  });

  const production = testApp({ requireHttps: true });
  const prefetch = { patient: { resourceType: 'Patient', id: 'pat' }, conditions: null };
  test('a hook call naming an http fhirServer is refused with 400 and an OperationOutcome naming fhirServer', async () => {
    const res = await request(production)
      .post(SERVICE)
      .send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: 'http://ehr.example.org/fhir', token: 'secret', prefetch }));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/fhir+json');
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0]).toMatchObject({ code: 'security', expression: ['fhirServer'], details: { coding: [{ code: 'INSECURE_FHIR_SERVER' }] } });
  });
  test('the same call with an https fhirServer is answered', async () => {
    const full = { ...prefetch, coverage: null, observations: null, imagingStudies: null, procedures: null, medicationRequests: null, serviceRequests: null, diagnosticReports: null, questionnaireResponses: null };
    const res = await request(production)
      .post(SERVICE)
      .send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: 'https://ehr.example.org/fhir', token: 'secret', prefetch: full }));
    expect(res.status).toBe(200);
  });
});

describe('questionnaires served without the EHR\'s credential carry nothing from the record', () => {
  const BIRTH = '1950-03-14';
  const PATIENT = 'pat-quillfeather-0193';
  let ehr: EhrIdentity;
  let app: ReturnType<typeof testApp>;
  let links: { missing: string; full: string };

  beforeAll(async () => {
    ehr = await startEhrIdentity();
    app = testApp(loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku }]), CDS_PUBLIC_URL: BASE }));
    // Back pain only: documentation needed; at 76 the age is evidence toward potential osteoporosis.
    const prefetch = {
      patient: { resourceType: 'Patient', id: PATIENT, birthDate: BIRTH },
      conditions: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { ...condition('M54.50', { onset: daysAgo(70) }), subject: { reference: `Patient/${PATIENT}` } } as Resource }] },
      coverage: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: planCoverage(PATIENT) }] },
      observations: null, imagingStudies: null, procedures: null, medicationRequests: null, serviceRequests: null, diagnosticReports: null, questionnaireResponses: null,
    };
    const draft = { ...order(), subject: { reference: `Patient/${PATIENT}` } };
    const res = await request(app)
      .post(SERVICE)
      .set('authorization', `Bearer ${await ehr.sign(`${BASE}${SERVICE}`)}`)
      .send(hookRequest({ hook: 'order-sign', patientId: PATIENT, draftOrders: [draft], prefetch }));
    expect(res.status).toBe(200);
    const cardLinks = res.body.cards[0].links as { label: string; url: string }[];
    links = {
      missing: new URL(cardLinks.find((l) => /still needed/.test(l.label))?.url ?? '').pathname,
      full: new URL(cardLinks.find((l) => /every criterion/.test(l.label))?.url ?? '').pathname,
    };
  });
  afterAll(async () => {
    await ehr.close();
  });

  const age = (): string => `age ${ageInYears(parseFhirDate(BIRTH) as FhirDate, Date.now())} years`;

  test.each(['application/fhir+json', 'text/html'])('fetched without credentials as %s, neither questionnaire holds the patient id, birth date or age', async (accept) => {
    for (const path of [links.missing, links.full]) {
      const res = await request(app).get(path).set('accept', accept);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(BIRTH);
      expect(res.text).not.toContain(age());
      expect(res.text).not.toContain(PATIENT);
      expect(res.text).not.toContain('On record');
    }
  });

  test('the EHR, with its client JWT for the URL it fetches, gets the companion pre-answered from the record', async () => {
    const res = await request(app)
      .get(links.full)
      .set('accept', 'application/fhir+json')
      .set('authorization', `Bearer ${await ehr.sign(`${BASE}${links.full}`)}`);
    expect(res.status).toBe(200);
    const q = JSON.parse(res.text) as Questionnaire;
    expect(q.title).toContain('pre-answered from the record');
    expect(res.text).toContain(age());
    expect(res.text).toContain(BIRTH);
    expect(res.text).toContain('"initial":[{"valueBoolean":false}]');
  });

  test('a token that does not verify (signed for another URL) is refused, not quietly given less', async () => {
    const res = await request(app)
      .get(links.full)
      .set('authorization', `Bearer ${await ehr.sign(`${BASE}${links.missing}`)}`);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('with client authentication off, no request is authenticated: record details are never served', async () => {
    const open = testApp();
    const backPain = { ...condition('M54.50', { onset: daysAgo(70) }), subject: { reference: `Patient/${PATIENT}` } } as Resource;
    const prefetch = { patient: { resourceType: 'Patient', id: PATIENT, birthDate: BIRTH }, conditions: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: backPain }] } };
    const res = await request(open).post(SERVICE).send(hookRequest({ hook: 'order-sign', patientId: PATIENT, draftOrders: [{ ...order(), subject: { reference: `Patient/${PATIENT}` } } as Resource], prefetch }));
    const questionnaires = (res.body.cards[0].links as { label: string; url: string }[]).filter((l) => /Questionnaire/.test(l.label));
    expect(questionnaires).toHaveLength(2);
    for (const link of questionnaires) {
      const q = await request(open).get(new URL(link.url).pathname).set('authorization', 'Bearer anything');
      expect(q.status).toBe(200);
      expect(q.text).not.toContain(BIRTH);
      expect(q.text).not.toContain(PATIENT);
    }
  });
});
