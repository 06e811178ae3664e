import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Appointment, Extension, Resource, ServiceRequest } from 'fhir/r4.js';
import { determinations, responseProblems } from '../support/conformance.js';
import { condition, daysAgo, order, patient, planCoverage, PLAN_NAME } from '../support/clinical.js';
import { assertionFor, coverageInformationOn, readAssertion, updatesOf } from '../support/crd.js';
import { fulfilPrefetch, hookRequest, type AppointmentCall, type DispatchCall, type HookCall } from '../support/ehr.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { testApp } from '../support/service.js';

// Da Vinci CRD 2.2 as a payer's CRD server is held to it, over HTTP against a real FHIR server: configuration
// options, the primary hooks, re-signing, several orders. The patient has low back pain and a history of cancer
// (meets criteria) and is a member of the configured plan.
const token = randomUUID();
const app = testApp();
const LUMBAR_SITE = { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007', display: 'Lumbar spine structure' }] }] };
const onServer: ServiceRequest = { ...order('72148'), id: 'mri-on-server', status: 'active', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72148', display: 'MRI lumbar spine without contrast' }] } };
const brainOnServer: ServiceRequest = { ...order('70551'), id: 'brain-on-server', status: 'active' };
const record: Resource[] = [
  patient(),
  planCoverage(),
  condition('M54.50', { onset: daysAgo(70) }),
  condition('Z85.46', { clinical: 'resolved', onset: daysAgo(2000) }),
  onServer,
  brainOnServer,
];
let fhir: FhirTestServer;
let prefetch: Record<string, unknown>;
const SERVICE = { 'order-sign': 'cohere-lumbar-mri', 'order-select': 'cohere-lumbar-mri-select', 'appointment-book': 'cohere-lumbar-mri-appointment', 'order-dispatch': 'cohere-lumbar-mri-dispatch' };

beforeAll(async () => {
  fhir = await startFhirTestServer({ token, resources: record });
  const discovery = (await request(app).get('/cds-services')).body as { services: { hook: string; prefetch: Record<string, string> }[] };
  prefetch = await fulfilPrefetch(discovery.services.find((s) => s.hook === 'order-sign')?.prefetch ?? {}, { patientId: 'pat', userId: 'Practitioner/1' }, fhir.baseUrl, token);
});
afterAll(async () => {
  await fhir.close();
});

type Call = Omit<HookCall, 'patientId' | 'fhirServer' | 'token'> | Omit<AppointmentCall, 'patientId' | 'fhirServer' | 'token'> | Omit<DispatchCall, 'patientId' | 'fhirServer' | 'token'>;

async function call(c: Call, mode: 'prefetch' | 'fetch' = 'prefetch'): Promise<Record<string, any>> {
  const body = hookRequest({ ...c, patientId: 'pat', fhirServer: fhir.baseUrl, token, ...(mode === 'prefetch' ? { prefetch: { ...prefetch, ...(c.prefetch ?? {}) } } : {}) } as HookCall);
  const res = await request(app).post(`/cds-services/${SERVICE[c.hook]}`).send(body);
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  return res.body as Record<string, any>;
}

const configured = (configuration: unknown): Record<string, unknown> => ({ 'davinci-crd.configuration': configuration });
const mri = (id: string, code = '72148', extra: Partial<ServiceRequest> = {}): ServiceRequest => ({ ...order(code, extra), id });

describe('discovery declares Da Vinci CRD 2.2 and its configuration options', () => {
  test('every entry names version 2.2 and offers an option, with code, type, name, description and default, for each card type it returns', async () => {
    const services = (await request(app).get('/cds-services')).body.services as { extension: Record<string, any> }[];
    for (const s of services) {
      expect(s.extension['davinci-crd.version']).toEqual(['2.2']);
      const codes = (s.extension['davinci-crd.configuration-options'] as { code: string; type: string; name: string; description: string; default: unknown }[]).map((o) => {
        expect(typeof o.name).toBe('string');
        expect(typeof o.description).toBe('string');
        expect(typeof o.default).toBe(o.type === 'boolean' ? 'boolean' : 'number');
        return o.code;
      });
      expect(codes).toEqual(expect.arrayContaining(['coverage-info', 'guideline', 'appropriate-use', 'off-guideline', 'unsolicited-determ']));
    }
  });
  test('the cards returned carry CRD response types as their topic, each one a configuration option', async () => {
    const options = ((await request(app).get('/cds-services')).body.services[0].extension['davinci-crd.configuration-options'] as { code: string }[]).map((o) => o.code);
    const meets = await call({ hook: 'order-sign', draftOrders: [mri('t-1')] });
    const spectroscopy = await call({ hook: 'order-sign', draftOrders: [mri('t-2', '76390', LUMBAR_SITE)] });
    const noCoverage = await call({ hook: 'order-sign', draftOrders: [mri('t-3')], prefetch: { coverage: null } });
    const topics = [meets, spectroscopy, noCoverage].flatMap((b) => (b.cards as { source: { topic: { system: string; code: string } } }[]).map((c) => c.source.topic));
    expect(topics.map((t) => t.code)).toEqual(['guideline', 'off-guideline', 'coverage-info']);
    for (const t of topics) {
      expect(t.system).toBe('http://terminology.hl7.org/CodeSystem/cdshooks-card-type');
      expect(options).toContain(t.code);
    }
  });
});

describe('the request’s davinci-crd.configuration is obeyed', () => {
  test('coverage-info false: the card, and no system action', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-1')], extension: configured({ 'coverage-info': false }) });
    expect(determinations(body)).toHaveLength(1);
    expect(body.systemActions).toBeUndefined();
  });
  test('off-guideline false: an order that does not meet criteria gets no card, and its coverage-information is still recorded', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-2', '76390', LUMBAR_SITE)], extension: configured({ 'off-guideline': false }) });
    expect(body.cards).toEqual([]);
    expect(assertionFor(body, 'c-2')?.covered).toBe('not-covered');
  });
  test('guideline false leaves the other card types alone', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-3'), mri('c-4', '76390', LUMBAR_SITE)], extension: configured({ guideline: false }) });
    expect(body.cards.map((c: { source: { topic: { code: string } } }) => c.source.topic.code)).toEqual(['off-guideline']);
    expect(updatesOf(body).size).toBe(2);
  });
  test('unsolicited-determ false (a what-if call): the policy is met, but no authorization number is given', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-5')], extension: configured({ 'unsolicited-determ': false }) });
    expect(determinations(body)[0]?.decision).toBe('meets-criteria');
    const a = assertionFor(body, 'c-5');
    expect(a).toMatchObject({ covered: 'covered', paNeeded: 'auth-needed' });
    const ext = coverageInformationOn(updatesOf(body).get('c-5')?.resource)[0];
    expect(ext?.extension.some((e: Extension) => e.url === 'satisfied-pa-id')).toBe(false);
  });
  test('unknown options are ignored', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-6')], extension: configured({ 'alt-drug': true, 'max-cards': 'lots' }) });
    expect(body.cards).toHaveLength(1);
    expect(assertionFor(body, 'c-6')?.paNeeded).toBe('satisfied');
  });
  test('a value of the wrong type: a warning card naming it, the default applied, never a 4xx', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-7')], extension: configured({ 'coverage-info': 'no' }) });
    expect(body.cards[0].indicator).toBe('warning');
    expect(body.cards[0].detail).toContain('coverage-info must be true or false');
    expect(determinations(body)).toHaveLength(1);
    expect(assertionFor(body, 'c-7')?.covered).toBe('covered');
  });
  test('a nonsensical combination (an unsolicited determination without coverage information) is said so on a warning card', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-8')], extension: configured({ 'coverage-info': false, 'unsolicited-determ': true }) });
    expect(body.cards[0].summary).toMatch(/configuration/i);
    expect(body.systemActions).toBeUndefined();
  });
  test('a configuration that is not an object is reported, not refused', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('c-9')], extension: configured(['coverage-info']) });
    expect(body.cards).toHaveLength(2);
  });
});

describe('the plan’s coverage decides whether the policy applies (SPEC §7.1)', () => {
  test('the card’s source label is the plan’s name', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('p-1')] });
    expect(body.cards[0].source.label).toBe(PLAN_NAME);
  });
  test('a payer Organization the FHIR server fails to return leaves coverage indeterminate: the clinical card, and no approval', async () => {
    const byOrganization = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: planCoverage('pat', { payor: [{ reference: 'Organization/exma' }] }) }] };
    fhir.faults.status = { type: 'Organization', code: 500 };
    try {
      const body = await call({ hook: 'order-sign', draftOrders: [mri('p-2')], prefetch: { coverage: byOrganization } });
      expect(determinations(body)[0]?.decision).toBe('meets-criteria');
      expect(body.cards[0].detail).toContain('coverage could not be read');
      const a = assertionFor(body, 'p-2');
      expect(a).toMatchObject({ covered: 'indeterminate', reasons: ['technical'] });
      expect(a?.paNeeded).toBeUndefined();
    } finally {
      delete fhir.faults.status;
    }
  });
  test('a Coverage search the FHIR server fails is indeterminate for a technical reason', async () => {
    fhir.faults.status = { type: 'Coverage', code: 500 };
    try {
      const body = await call({ hook: 'order-sign', draftOrders: [mri('p-3')] }, 'fetch');
      expect(assertionFor(body, 'p-3')).toMatchObject({ covered: 'indeterminate', reasons: ['technical'] });
    } finally {
      delete fhir.faults.status;
    }
  });
});

describe('re-signing and several orders (CRD resp-29, resp-35, resp-37, dev-24, dev-25)', () => {
  test('Re-signing the returned order brings no second update, and the card is still shown', async () => {
    const first = await call({ hook: 'order-sign', draftOrders: [mri('r-1')] });
    const returned = updatesOf(first).get('r-1')?.resource as ServiceRequest;
    const again = await call({ hook: 'order-sign', draftOrders: [returned] });
    expect(again.systemActions).toBeUndefined();
    expect(determinations(again)[0]?.decision).toBe('meets-criteria');
  });
  test('re-signing an order that needs documentation brings no second update while its questionnaire is served, and a fresh one once it is not', async () => {
    const backPainOnly = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: condition('M54.50', { onset: daysAgo(70) }) }] };
    const first = await call({ hook: 'order-sign', draftOrders: [mri('q-1')], prefetch: { conditions: backPainOnly } });
    expect(determinations(first)[0]?.decision).toBe('documentation-needed');
    const returned = updatesOf(first).get('q-1')?.resource as ServiceRequest;
    const again = await call({ hook: 'order-sign', draftOrders: [returned], prefetch: { conditions: backPainOnly } });
    expect(again.systemActions).toBeUndefined();
    // A day later the per-order questionnaire is no longer served: the link on the order is renewed.
    const expired = JSON.parse(JSON.stringify(returned).replace(/Questionnaire\/cohere-ma-mri-lumbar-spine-v1-1-[0-9a-f-]+/g, 'Questionnaire/cohere-ma-mri-lumbar-spine-v1-1-expired')) as ServiceRequest;
    const later = await call({ hook: 'order-sign', draftOrders: [expired], prefetch: { conditions: backPainOnly } });
    const renewed = coverageInformationOn(updatesOf(later).get('q-1')?.resource);
    expect(renewed).toHaveLength(1);
    expect(JSON.stringify(renewed)).not.toContain('expired');
  });
  test('Another payer’s coverage-information on the order is kept when this service updates it', async () => {
    const theirs: Extension = {
      url: 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information',
      extension: [
        { url: 'coverage', valueReference: { reference: 'Coverage/secondary' } },
        { url: 'covered', valueCode: 'conditional' },
        { url: 'info-needed', valueCode: 'performer' },
        { url: 'date', valueDate: '2026-11-01' },
        { url: 'coverage-assertion-id', valueString: 'OTHER-PAYER-1' },
      ],
    };
    const carrying: ServiceRequest = { ...mri('r-2'), extension: [theirs] };
    const body = await call({ hook: 'order-sign', draftOrders: [carrying] });
    const resource = updatesOf(body).get('r-2')?.resource as ServiceRequest;
    expect(resource.extension?.[0]).toEqual(theirs);
    expect(coverageInformationOn(resource)).toHaveLength(2);
  });
  test('a changed outcome replaces only this service’s earlier extension', async () => {
    const first = await call({ hook: 'order-sign', draftOrders: [mri('r-3', '76390', LUMBAR_SITE)] });
    const denied = updatesOf(first).get('r-3')?.resource as ServiceRequest;
    // The clinician changes the order to a plain lumbar MRI and signs again: the old assertion no longer holds.
    const changed: ServiceRequest = { ...denied, code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72148' }] }, bodySite: [] };
    const second = await call({ hook: 'order-sign', draftOrders: [changed] });
    const exts = coverageInformationOn(updatesOf(second).get('r-3')?.resource);
    expect(exts).toHaveLength(1);
    expect(readAssertion(exts[0])).toMatchObject({ covered: 'covered', paNeeded: 'satisfied' });
  });
  test('Two lumbar MRIs in one call: two cards, each naming its order in the detail and the associated-resource extension', async () => {
    const body = await call({ hook: 'order-sign', draftOrders: [mri('two-1'), mri('two-2', '72149')] });
    expect(body.cards).toHaveLength(2);
    body.cards.forEach((card: Record<string, any>, i: number) => {
      const id = ['two-1', 'two-2'][i];
      expect(card.detail).toContain(`ServiceRequest/${id}`);
      expect(card.extension['davinci-crd.associated-resource']).toEqual([`ServiceRequest/${id}`]);
      expect(card.extension['necessity.determination'].order).toBe(`ServiceRequest/${id}`);
    });
    expect([...updatesOf(body).keys()].sort()).toEqual(['two-1', 'two-2']);
  });
  test('a commercial-plan member with two lumbar MRIs: one card without determination, a not-covered assertion on each order', async () => {
    const ppo = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: planCoverage('pat', { payor: [{ display: 'Acme Commercial PPO' }] }) }] };
    const body = await call({ hook: 'order-sign', draftOrders: [mri('pp-1'), mri('pp-2')], prefetch: { coverage: ppo } });
    expect(body.cards).toHaveLength(1);
    expect(body.cards[0].extension['davinci-crd.associated-resource']).toEqual(['ServiceRequest/pp-1', 'ServiceRequest/pp-2']);
    for (const id of ['pp-1', 'pp-2']) {
      expect(assertionFor(body, id)).toMatchObject({ covered: 'not-covered', reasons: ['no-member-found'] });
    }
  });
});

describe('the primary hooks appointment-book and order-dispatch (CRD hook-16, hook-26, hook-33)', () => {
  const appointment = (basedOn: string, id = 'appt-1'): Appointment => ({
    resourceType: 'Appointment',
    id,
    status: 'proposed',
    start: daysAgo(-7),
    participant: [{ actor: { reference: 'Patient/pat' }, status: 'accepted' }],
    basedOn: [{ reference: basedOn }],
  });

  test.each(['prefetch', 'fetch'] as const)('appointment-book on an appointment based on a lumbar MRI updates the ServiceRequest (%s)', async (mode) => {
    const body = await call({ hook: 'appointment-book', appointments: [appointment('ServiceRequest/mri-on-server')] }, mode);
    expect(determinations(body)[0]).toMatchObject({ order: 'ServiceRequest/mri-on-server', decision: 'meets-criteria' });
    expect(body.cards[0].extension['davinci-crd.associated-resource']).toEqual(['Appointment/appt-1', 'ServiceRequest/mri-on-server']);
    const update = updatesOf(body).get('mri-on-server');
    expect(update?.resource.resourceType).toBe('ServiceRequest');
    expect(assertionFor(body, 'mri-on-server')).toMatchObject({ covered: 'covered', paNeeded: 'satisfied', coverage: 'Coverage/pat-coverage' });
  });
  test('appointment-book reads an order contained in the appointment, or sent beside it in the appointments Bundle', async () => {
    const containedOrder: ServiceRequest = { ...mri('sr'), status: 'active' };
    const contained: Appointment = { ...appointment('#sr'), id: 'appt-contained', contained: [containedOrder] };
    const inBundle = { ...mri('beside'), status: 'active' } as ServiceRequest;
    const body = await call({ hook: 'appointment-book', appointments: [contained, appointment('ServiceRequest/beside', 'appt-beside'), inBundle] });
    expect(determinations(body).map((d) => d.order)).toEqual(['ServiceRequest/sr', 'ServiceRequest/beside']);
    expect([...updatesOf(body).keys()]).toEqual(['sr', 'beside']);
  });
  test('appointment-book on an appointment based on a brain MRI gets no card', async () => {
    expect(await call({ hook: 'appointment-book', appointments: [appointment('ServiceRequest/brain-on-server')] }, 'fetch')).toEqual({ cards: [] });
  });
  test('appointment-book on an appointment based on no order gets no card', async () => {
    const walkIn: Appointment = { resourceType: 'Appointment', id: 'walk-in', status: 'proposed', participant: [{ actor: { reference: 'Patient/pat' }, status: 'accepted' }] };
    expect(await call({ hook: 'appointment-book', appointments: [walkIn] })).toEqual({ cards: [] });
  });
  test.each(['prefetch', 'fetch'] as const)('order-dispatch reads the order it is given (%s)', async (mode) => {
    const body = await call({ hook: 'order-dispatch', dispatchedOrders: ['ServiceRequest/mri-on-server'], performer: 'Organization/imaging-center' }, mode);
    expect(determinations(body)[0]).toMatchObject({ order: 'ServiceRequest/mri-on-server', decision: 'meets-criteria' });
    expect(body.cards[0].detail).toContain('dispatched to `Organization/imaging-center`');
    expect(assertionFor(body, 'mri-on-server')?.covered).toBe('covered');
  });
  test('order-dispatch when the FHIR server fails to return the order: a card says it could not be checked, and nothing is recorded', async () => {
    fhir.faults.status = { type: 'ServiceRequest', code: 500 };
    try {
      const body = await call({ hook: 'order-dispatch', dispatchedOrders: ['ServiceRequest/mri-on-server'], performer: 'Organization/imaging-center' }, 'fetch');
      expect(body.cards).toHaveLength(1);
      expect(body.cards[0].indicator).toBe('warning');
      expect(body.cards[0].detail).toContain('ServiceRequest/mri-on-server');
      expect(body.systemActions).toBeUndefined();
    } finally {
      delete fhir.faults.status;
    }
  });
  test('order-dispatch of an order the FHIR server does not have gets no card', async () => {
    expect(await call({ hook: 'order-dispatch', dispatchedOrders: ['ServiceRequest/no-such-order'], performer: 'Organization/imaging-center' }, 'fetch')).toEqual({ cards: [] });
  });
  test('order-dispatch of a MedicationRequest gets no card', async () => {
    expect(await call({ hook: 'order-dispatch', dispatchedOrders: ['MedicationRequest/rx-1'], performer: 'Organization/pharmacy' })).toEqual({ cards: [] });
  });
  test('order-dispatch re-dispatching an order that already carries this service’s assertion sends no update', async () => {
    const first = await call({ hook: 'order-dispatch', dispatchedOrders: ['ServiceRequest/mri-on-server'], performer: 'Organization/imaging-center' });
    const annotated = updatesOf(first).get('mri-on-server')?.resource as ServiceRequest;
    const serviceRequests = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: annotated }] };
    const again = await call({ hook: 'order-dispatch', dispatchedOrders: ['ServiceRequest/mri-on-server'], performer: 'Organization/imaging-center', prefetch: { serviceRequests } });
    expect(again.systemActions).toBeUndefined();
    expect(determinations(again)).toHaveLength(1);
  });
  test('order-dispatch without a performer is refused with 400 naming context.performer', async () => {
    const body = hookRequest({ hook: 'order-dispatch', patientId: 'pat', dispatchedOrders: ['ServiceRequest/mri-on-server'], performer: 'x', fhirServer: fhir.baseUrl, token });
    delete (body.context as Record<string, unknown>).performer;
    const res = await request(app).post('/cds-services/cohere-lumbar-mri-dispatch').send(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['context.performer']);
  });
  test('appointment-book without appointments is refused with 400 naming context.appointments', async () => {
    const body = hookRequest({ hook: 'appointment-book', patientId: 'pat', appointments: [], fhirServer: fhir.baseUrl, token });
    delete (body.context as Record<string, unknown>).appointments;
    const res = await request(app).post('/cds-services/cohere-lumbar-mri-appointment').send(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['context.appointments']);
  });
  test('order-select gets the card but no coverage-information (a secondary hook)', async () => {
    const body = await call({ hook: 'order-select', draftOrders: [mri('sel-1')] });
    expect(determinations(body)).toHaveLength(1);
    expect(body.systemActions).toBeUndefined();
  });
});
