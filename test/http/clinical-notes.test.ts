import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import type { Resource } from 'fhir/r4.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { determinations, responseProblems } from '../support/conformance.js';
import { condition, daysAgo, order, planCoverage } from '../support/clinical.js';
import { fulfilPrefetch, hookRequest } from '../support/ehr.js';
import { clearFaults, startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { base64, binary, note } from '../support/notes.js';
import { testApp } from '../support/service.js';

/**
 * Hostile notes over HTTP (SPEC §8.1, issue #11): whatever the notes hold or wherever they point, the hook
 * answers 200 in time, the limits hold, the card says what was not read, and no note text reaches the log.
 */
const token = randomUUID();
// Long enough for a healthy server on a loaded two-core CI machine, short enough to wait out in a timeout test.
const DEADLINE_MS = 2000;
const SERVICE = '/cds-services/cohere-lumbar-mri';
const context = { patientId: 'pat', userId: 'Practitioner/ordering-physician' };
const coded: Resource[] = [
  { resourceType: 'Patient', id: 'pat', birthDate: '1958-02-02' } as Resource,
  planCoverage('pat'),
  condition('M54.50', { onset: daysAgo(60) }),
];
// A phrase that must never appear in a log line: it stands for every note's clinical content.
const SECRET = `Ysolde Quillfeather reports saddle numbness ${randomUUID()}`;

let logText = '';
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logText += chunk.toString();
    done();
  },
});
const app = testApp({ ...loadConfig({}), fhirTimeoutMs: DEADLINE_MS }, createLogger('debug', sink));
// A hundred Binary reads on a machine shared with other work: this app has time enough to read them all.
const patientApp = testApp({ ...loadConfig({}), fhirTimeoutMs: 20_000 }, createLogger('debug', sink));
let fhir: FhirTestServer;
let foreign: FhirTestServer;

beforeAll(async () => {
  foreign = await startFhirTestServer({ resources: [binary('outside-1', SECRET)] });
  fhir = await startFhirTestServer({ token, resources: [...coded, binary('hpi', SECRET), binary('huge', `${SECRET} `.repeat(70_000))] });
});
afterAll(async () => {
  await fhir.close();
  await foreign.close();
});
afterEach(() => {
  clearFaults(fhir);
});

const searchset = (resources: Resource[]): Record<string, unknown> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

/** The coded record as the EHR prefetches it, with these notes as the documentReferences entry. */
async function prefetchWith(notes: Resource[]): Promise<Record<string, unknown>> {
  const prefetch = await fulfilPrefetch(
    {
      patient: 'Patient/{{context.patientId}}',
      coverage: 'Coverage?patient={{context.patientId}}',
      conditions: 'Condition?patient={{context.patientId}}',
    },
    context,
    fhir.baseUrl,
    token,
  );
  const empty = searchset([]);
  return {
    ...prefetch,
    observations: empty,
    imagingStudies: empty,
    procedures: empty,
    medicationRequests: empty,
    serviceRequests: empty,
    diagnosticReports: empty,
    questionnaireResponses: empty,
    documentReferences: searchset(notes),
  };
}

async function sign(body: Record<string, unknown>, service = app): Promise<{ detail: string; body: Record<string, any>; ms: number }> {
  const started = Date.now();
  const res = await request(service).post(SERVICE).send(body);
  const ms = Date.now() - started;
  expect(res.status).toBe(200);
  expect(responseProblems(res.body as Record<string, unknown>)).toEqual([]);
  expect(determinations(res.body as Record<string, unknown>)).toHaveLength(1);
  return { detail: String(res.body.cards[0].detail), body: res.body as Record<string, any>, ms };
}

const byUrl = (url: string, date = daysAgo(2)): Resource => note('', { date, content: [{ contentType: 'text/plain', url }] });

describe('notes that cannot be read still get a timely answer that says so (SPEC §8.1)', () => {
  test('a Binary that does not answer in time: 200 within the deadline, and the card says the note could not be retrieved', async () => {
    const prefetch = await prefetchWith([byUrl('Binary/hpi')]);
    fhir.faults.delayMs = DEADLINE_MS + 2000;
    const { detail, ms } = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token, prefetch }));
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(detail).toContain("1 note could not be read: 1 not retrieved from the EHR's FHIR server.");
  });

  test('a Binary on another host: not one request reaches it, and the card says the note is held on another server', async () => {
    foreign.requests.length = 0;
    const prefetch = await prefetchWith([byUrl(`${foreign.baseUrl}/Binary/outside-1`), byUrl('Binary/hpi')]);
    const { detail } = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token, prefetch }));
    expect(foreign.requests).toEqual([]);
    expect(detail).toContain('1 note could not be read: 1 held on another server.');
  });

  test('invalid base64, invalid UTF-8, a PDF and deeply nested HTML in the prefetch: 200, and the card counts what was not read', async () => {
    const nested = `${'<div><span>'.repeat(50_000)}${SECRET}${'</span></div>'.repeat(50_000)}`;
    const notes = [
      note('', { content: [{ contentType: 'text/plain', data: '%%% not base64 %%%' }] }),
      note('', { content: [{ contentType: 'text/plain', data: Buffer.concat([Buffer.from(SECRET), Buffer.from([0xff, 0xfe, 0xc0])]).toString('base64') }] }),
      note('', { content: [{ contentType: 'application/pdf', data: base64('%PDF-1.4') }] }),
      note('', { content: [{ contentType: 'text/html', data: base64(nested) }] }),
    ];
    const { detail } = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token, prefetch: await prefetchWith(notes) }));
    expect(detail).toContain('2 notes could not be read: 1 in an unsupported format (PDF), 1 not validly encoded.');
  });

  test('a 5 MB attachment in a Binary is left out past the character limit, and the card says so', async () => {
    const { detail } = await sign(
      hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token, prefetch: await prefetchWith([byUrl('Binary/huge'), byUrl('Binary/hpi', daysAgo(5))]) }),
    );
    expect(detail).toContain('1 note could not be read: 1 past the limit of 100 texts or 2,000,000 characters read per request.');
  });

  test('every note read: the card says nothing about notes', async () => {
    const { detail } = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: fhir.baseUrl, token, prefetch: await prefetchWith([byUrl('Binary/hpi')]) }));
    expect(detail).not.toContain('could not be read');
    expect(detail).not.toContain('Could not be checked');
  });
});

describe('a thousand notes (SPEC §8.1: newest first, at most 100 texts)', () => {
  let many: FhirTestServer;
  const notes = Array.from({ length: 1000 }, (_, i) => note('', { id: `n${i}`, date: daysAgo(i + 1), content: [{ contentType: 'text/plain', url: `Binary/b${i}` }] }));

  beforeAll(async () => {
    // The notes come in the prefetch (the in-memory server searches a thousand of them too slowly for a test);
    // their texts are Binaries on the FHIR server, read by the service.
    many = await startFhirTestServer({ token, resources: [...coded, ...Array.from({ length: 1000 }, (_, i) => binary(`b${i}`, `Note ${i}: ${SECRET}`))] });
  }, 60_000);
  afterAll(async () => {
    await many.close();
  });

  test('only the Binaries of the newest 100 are fetched, the other 900 notes are counted, and the answer is 200', async () => {
    const prefetch = { ...(await prefetchWith([])), documentReferences: searchset([...notes].reverse()) };
    const { detail } = await sign(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order()], fhirServer: many.baseUrl, token, prefetch }), patientApp);
    const fetched = many.requests.filter((r) => r.startsWith('GET Binary/'));
    expect(fetched).toHaveLength(100);
    expect(new Set(fetched)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `GET Binary/b${i}`)));
    expect(detail).toContain('900 notes could not be read: 900 past the limit of 100 texts or 2,000,000 characters read per request.');
  });
});

// Last in the file: it reads the log of every call above.
test('no note text reaches the log, whatever the notes held', () => {
  expect(logText).toContain('order-sign');
  expect(logText).not.toContain('Quillfeather');
  expect(logText).not.toContain('low back pain');
});
