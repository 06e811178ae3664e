import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import fc from 'fast-check';
import { gatherRecord, NoDataAccessError, refersToPatient, type PrefetchTemplate } from '../../src/fhir/data-source.js';
import { fhirKitReader } from '../../src/fhir/fhir-reader.js';
import { condition, daysAgo, temperature } from '../support/clinical.js';
import { startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';

const templates: PrefetchTemplate[] = [
  { key: 'patient', type: 'Patient', query: 'Patient/{{context.patientId}}' },
  { key: 'conditions', type: 'Condition', query: 'Condition?patient={{context.patientId}}' },
  { key: 'observations', type: 'Observation', query: 'Observation?patient={{context.patientId}}' },
];
const options = { readerFactory: fhirKitReader, deadlineMs: 3000, maxPages: 100 };
const token = randomUUID();
const vitals: Resource[] = Array.from({ length: 120 }, (_, i) => temperature(36.8, daysAgo(i + 1)));
let fhir: FhirTestServer;

beforeAll(async () => {
  fhir = await startFhirTestServer({
    token,
    resources: [{ resourceType: 'Patient', id: 'pat' } as Resource, condition('M54.50'), ...vitals, { ...condition('C61'), subject: { reference: 'Patient/someone-else' } } as Resource],
  });
});
afterAll(async () => {
  await fhir.close();
});

const base = { patientId: 'pat', context: { patientId: 'pat', userId: 'Practitioner/1' } };

test('with no prefetch, every template is queried on the FHIR server and every page is followed', async () => {
  const record = await gatherRecord(templates, { ...base, fhirServer: fhir.baseUrl, accessToken: token }, options);
  expect(record.sources.Observation.resources).toHaveLength(120);
  expect(record.sources.Observation.failure).toBeUndefined();
  expect(record.sources.Patient.resources).toHaveLength(1);
  expect(record.fhirRequests).toBe(5); // Patient, Condition, Observation pages 1–3
});

test('a prefetched first page with a next link is completed from the FHIR server', async () => {
  const first = (await (await fetch(`${fhir.baseUrl}/Observation?patient=pat`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
  const record = await gatherRecord(templates, { ...base, fhirServer: fhir.baseUrl, accessToken: token, prefetch: { observations: first, conditions: null, patient: null } }, options);
  expect(record.sources.Observation.resources).toHaveLength(120);
});

test('a prefetch key that is null means no data, and is not queried again', async () => {
  fhir.requests.length = 0;
  const record = await gatherRecord(templates, { ...base, fhirServer: fhir.baseUrl, accessToken: token, prefetch: { conditions: null, observations: null, patient: null } }, options);
  expect(record.sources.Condition.resources).toHaveLength(0);
  expect(record.sources.Condition.failure).toBeUndefined();
  expect(fhir.requests).toHaveLength(0);
});

test('a prefetch OperationOutcome marks that source unreadable without querying it again', async () => {
  const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] };
  const record = await gatherRecord(templates, { ...base, prefetch: { conditions: outcome, observations: null, patient: null } }, options);
  expect(record.sources.Condition.failure).toBe('prefetch-error');
});

test('a condition of another patient is never counted', async () => {
  const record = await gatherRecord(templates, { ...base, fhirServer: fhir.baseUrl, accessToken: token }, options);
  // Medplum returns only the patient's own, and a prefetch carrying another's is filtered too.
  const foreign = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { ...condition('C61'), subject: { reference: 'Patient/someone-else' } } }] };
  const fromPrefetch = await gatherRecord(templates, { ...base, prefetch: { conditions: foreign, observations: null, patient: null } }, options);
  expect(record.sources.Condition.resources.map((c) => c.code?.coding?.[0]?.code)).toEqual(['M54.50']);
  expect(fromPrefetch.sources.Condition.resources).toHaveLength(0);
});

test('a key missing from prefetch without a FHIR server is unreadable, not empty', async () => {
  const record = await gatherRecord(templates, { ...base, prefetch: { conditions: null } }, options);
  expect(record.sources.Observation.failure).toBe('not-provided');
});

test('neither prefetch nor a FHIR server is refused', async () => {
  await expect(gatherRecord(templates, base, options)).rejects.toBeInstanceOf(NoDataAccessError);
});

test('a wrong token makes the sources unreadable as unauthorized', async () => {
  const record = await gatherRecord(templates, { ...base, fhirServer: fhir.baseUrl, accessToken: 'wrong' }, options);
  expect(record.sources.Condition.failure).toBe('unauthorized');
});

describe('which references name the patient', () => {
  test.each([
    ['Patient/pat-1', true],
    [' Patient/pat-1 ', true],
    ['urn:uuid:pat-1', true],
    ['https://ehr.example/fhir/Patient/pat-1', true],
    ['Patient/pat-1/_history/3', true],
    ['Patient/pat-12', false],
    ['Patient/pat', false],
    ['Group/pat-1', false],
    ['Patient/other', false],
  ])('%s names pat-1: %s', (reference, expected) => {
    expect(refersToPatient(reference, 'pat-1')).toBe(expected);
  });

  test('for any reference and id it agrees with reading the reference as text ("Patient/<id>", "urn:uuid:<id>", a URL ending in Patient/<id>)', () => {
    const piece = fc.constantFrom('Patient', 'Patient/', 'urn:uuid:', '/', 'a', 'b', ' ', '_history/2', '/_history/1', 'x-1', 'http://h/');
    const text = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
    const id = fc.constantFrom('a', 'b', 'x-1', 'ab', '');
    fc.assert(
      fc.property(text, id, (reference, patientId) => {
        const ref = reference.trim();
        const parts = ref.replace(/\/_history\/[^/]*$/, '').split('/');
        const expected =
          reference === `Patient/${patientId}` || ref === `urn:uuid:${patientId}` || (parts.at(-1) === patientId && parts.at(-2) === 'Patient');
        expect(refersToPatient(reference, patientId)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

test('follow-up reads fetch what the record refers to, under the same token and deadline, each once', async () => {
  const orgFhir = await startFhirTestServer({
    token,
    resources: [{ resourceType: 'Patient', id: 'pat' } as Resource, { resourceType: 'Organization', id: 'payer-1', name: 'Example Payer' } as Resource],
  });
  try {
    const record = await gatherRecord(
      templates,
      { ...base, fhirServer: orgFhir.baseUrl, accessToken: token },
      options,
      { followUps: [() => ['Organization/payer-1', 'Organization/payer-1', 'Organization/gone', '#contained']] },
    );
    expect((record.related.get('Organization/payer-1') as { name?: string } | undefined)?.name).toBe('Example Payer');
    expect(record.relatedFailures.get('Organization/gone')).toBe('not-found');
    expect(record.related.has('#contained')).toBe(false);
    expect(record.fhirRequests).toBe(5); // three searches, two reads
    expect(orgFhir.unauthorized).toBe(0);
  } finally {
    await orgFhir.close();
  }
});

test('a follow-up read of a URL on another host is refused without a request: the token never leaves', async () => {
  const record = await gatherRecord(
    templates,
    { ...base, fhirServer: fhir.baseUrl, accessToken: token },
    options,
    { followUps: [() => ['http://other.example.org/fhir/Binary/1', `${fhir.baseUrl}/../elsewhere/Binary/1`]] },
  );
  expect(record.relatedFailures.get('http://other.example.org/fhir/Binary/1')).toBe('other-host');
  expect(record.relatedFailures.get(`${fhir.baseUrl}/../elsewhere/Binary/1`)).toBe('other-host');
  expect(record.fhirRequests).toBe(5);
});

test('resources a search brought along by _include are kept as related resources, not as matches', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      { resource: { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/pat' }, code: { text: 'x' } }, search: { mode: 'match' } },
      { resource: { resourceType: 'Organization', id: 'o1', name: 'Payer' }, search: { mode: 'include' } },
    ],
  };
  const record = await gatherRecord(templates, { ...base, prefetch: { conditions: bundle, observations: null, patient: null } }, options);
  expect(record.sources.Condition.resources.map((c) => c.id)).toEqual(['c1']);
  expect(record.related.has('Organization/o1')).toBe(true);
});
