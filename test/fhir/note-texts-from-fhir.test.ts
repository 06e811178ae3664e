import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { loadServiceDefinitions, prefetchTemplates } from '../../src/cds/discovery.js';
import { readNoteTexts, type NoteTexts } from '../../src/facts/note-texts.js';
import { gatherRecord, type GatherRequest } from '../../src/fhir/data-source.js';
import { fhirKitReader } from '../../src/fhir/fhir-reader.js';
import { noteAttachmentReads } from '../../src/fhir/note-attachments.js';
import type { PatientRecord } from '../../src/fhir/patient-record.js';
import { condition, daysAgo } from '../support/clinical.js';
import { fulfilPrefetch } from '../support/ehr.js';
import { clearFaults, startFhirTestServer, type FhirTestServer } from '../support/fhir-test-server.js';
import { base64, binary, narrativeReport, note } from '../support/notes.js';

const service = loadServiceDefinitions()[0]!;
const templates = prefetchTemplates(service);
const token = randomUUID();
// Long enough for a healthy server on a loaded two-core CI machine, short enough to wait out in a timeout test.
const DEADLINE_MS = 2000;
const options = { readerFactory: fhirKitReader, deadlineMs: DEADLINE_MS, maxPages: 100 };
const context = { patientId: 'pat', userId: 'Practitioner/1' };
const pat = { resourceType: 'Patient', id: 'pat', birthDate: '1960-01-01' } as Resource;
const HPI = 'HPI: 66 yo M with 5 weeks of low back pain. Reports unintentional weight loss.';

let fhir: FhirTestServer;
let foreign: FhirTestServer;

beforeAll(async () => {
  foreign = await startFhirTestServer({ resources: [binary('outside-1', 'Outside orthopedics: saddle anesthesia.')] });
  fhir = await startFhirTestServer({
    token,
    resources: [
      pat,
      condition('M54.50', { onset: daysAgo(40) }),
      binary('hpi', HPI),
      binary('ct-text', 'IMPRESSION: Indeterminate lytic lesion at L3.'),
      note('', { id: 'in-binary', date: daysAgo(2), content: [{ contentType: 'text/plain', url: 'Binary/hpi' }] }),
      note('', { id: 'gone', date: daysAgo(4), content: [{ contentType: 'text/plain', url: 'Binary/does-not-exist' }] }),
      narrativeReport({ id: 'ct', conclusion: 'See full report.', presentedForm: [{ contentType: 'text/plain', url: 'Binary/ct-text' }] }),
    ],
  });
  // Absolute URLs name the servers' ports, known only once they listen: these notes are stored afterwards.
  for (const n of [
    note('', { id: 'absolute', date: daysAgo(3), content: [{ contentType: 'text/plain', url: `${fhir.baseUrl}/Binary/hpi` }] }),
    note('', { id: 'outside', date: daysAgo(5), content: [{ contentType: 'text/plain', url: `${foreign.baseUrl}/Binary/outside-1` }] }),
  ]) {
    const res = await fetch(`${fhir.baseUrl}/DocumentReference/${n.id ?? ''}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(n),
    });
    expect(res.ok).toBe(true);
  }
});
afterAll(async () => {
  await fhir.close();
  await foreign.close();
});
afterEach(() => {
  clearFaults(fhir);
  fhir.requests.length = 0;
  foreign.requests.length = 0;
});

async function gather(request: Partial<GatherRequest> = {}): Promise<PatientRecord> {
  return gatherRecord(templates, { patientId: 'pat', context, fhirServer: fhir.baseUrl, accessToken: token, ...request }, options, { followUps: [noteAttachmentReads] });
}

async function notesOf(request: Partial<GatherRequest> = {}): Promise<NoteTexts> {
  return readNoteTexts(await gather(request));
}

describe("notes on the EHR's FHIR server (SPEC §8.1)", () => {
  test("a note held in a Binary on the EHR's server is read with the EHR's token", async () => {
    const notes = await notesOf();
    const read = notes.texts.map((t) => [t.reference, t.part, t.text]);
    expect(read).toContainEqual(['DocumentReference/in-binary', 'content[0]', HPI]);
    expect(read).toContainEqual(['DocumentReference/absolute', 'content[0]', HPI]);
    expect(fhir.requests).toContain('GET Binary/hpi');
    expect(fhir.unauthorized).toBe(0);
  });

  test("a report's presented form held in a Binary is read beside its conclusion", async () => {
    const report = (await notesOf()).texts.filter((t) => t.reference === 'DiagnosticReport/ct');
    expect(report.map((t) => [t.part, t.text])).toEqual([
      ['conclusion', 'See full report.'],
      ['presentedForm[0]', 'IMPRESSION: Indeterminate lytic lesion at L3.'],
    ]);
  });

  test('a Binary url on another host is never fetched: not one request reaches it, and the note counts as held elsewhere', async () => {
    const notes = await notesOf();
    expect(foreign.requests).toEqual([]);
    expect(notes.unread['other-host']).toBe(1);
  });

  test('a Binary the server does not have counts as fetch-failed, and the notes are partly read', async () => {
    const notes = await notesOf();
    expect(notes.unread['fetch-failed']).toBe(1);
    expect(notes.partlyRead).toBe(true);
  });

  test('a Binary that does not answer in time: the gathering ends at the deadline and the note counts as fetch-failed', async () => {
    const prefetch = await fulfilPrefetch(service.prefetch, context, fhir.baseUrl, token);
    fhir.requests.length = 0;
    fhir.faults.delayMs = DEADLINE_MS + 2000;
    const started = Date.now();
    const notes = await notesOf({ prefetch });
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    // Binary/hpi twice (relative and absolute), the missing one, the report's; none to the other host.
    expect(fhir.requests.filter((r) => r.startsWith('GET Binary/'))).toHaveLength(4);
    expect(foreign.requests).toEqual([]);
    expect(notes.texts.some((t) => t.text === HPI)).toBe(false);
    expect(notes.unread['fetch-failed']).toBe(4);
    expect(notes.texts.map((t) => t.part)).toEqual(['conclusion']);
  });

  test('a notes search the server fails: the notes are partly read and say why, and no coded source is unreadable', async () => {
    fhir.faults.status = { type: 'DocumentReference', code: 500 };
    const record = await gather();
    const notes = readNoteTexts(record);
    expect(notes).toMatchObject({ partlyRead: true, queryFailed: 'server-error' });
    expect(record.sources.Condition.failure).toBeUndefined();
    // The report's texts do not depend on the notes search.
    expect(notes.texts.map((t) => t.reference)).toEqual(['DiagnosticReport/ct', 'DiagnosticReport/ct']);
  });
});

describe('notes from prefetch (SPEC §8.1, CDS Hooks §Prefetch)', () => {
  const searchset = (resources: Resource[]): Record<string, unknown> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

  test('a missing documentReferences key is queried on the FHIR server like every other source', async () => {
    const prefetch = await fulfilPrefetch(service.prefetch, context, fhir.baseUrl, token);
    delete prefetch.documentReferences;
    fhir.requests.length = 0;
    await gather({ prefetch });
    expect(fhir.requests.filter((r) => r.startsWith('GET DocumentReference'))).toEqual(['GET DocumentReference?patient=pat']);
  });

  test('documentReferences: null means the patient has no notes: nothing is queried, and nothing is partly read', async () => {
    const prefetch = { ...(await fulfilPrefetch(service.prefetch, context, fhir.baseUrl, token)), documentReferences: null, diagnosticReports: null };
    fhir.requests.length = 0;
    const notes = await notesOf({ prefetch });
    expect(fhir.requests).toEqual([]);
    expect(notes).toMatchObject({ texts: [], partlyRead: false });
  });

  test('an OperationOutcome for documentReferences: the notes query failed, the notes are partly read, the coded record is read whole', async () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] };
    const prefetch = { ...(await fulfilPrefetch(service.prefetch, context, fhir.baseUrl, token)), documentReferences: outcome };
    const record = await gather({ prefetch });
    expect(readNoteTexts(record)).toMatchObject({ partlyRead: true, queryFailed: 'prefetch-error' });
    expect(Object.values(record.sources).filter((s) => s.failure !== undefined).map((s) => s.type)).toEqual(['DocumentReference']);
  });

  test('invalid base64, invalid UTF-8, a PDF and a note entered in error, all prefetched: each is read or counted as it should be', async () => {
    const badUtf8 = Buffer.concat([Buffer.from('Denies fever '), Buffer.from([0xc3, 0x28]), Buffer.from(' chills.')]).toString('base64');
    const documents = [
      note('', { id: 'bad-base64', content: [{ contentType: 'text/plain', data: 'not base64 at all!' }] }),
      note('', { id: 'bad-utf8', content: [{ contentType: 'text/plain', data: badUtf8 }] }),
      note('', { id: 'pdf', content: [{ contentType: 'application/pdf', data: base64('%PDF-1.4 fever 39.2') }] }),
      note('Cauda equina syndrome.', { id: 'wrong-chart', docStatus: 'entered-in-error' }),
    ];
    const notes = await notesOf({ prefetch: { documentReferences: searchset(documents), diagnosticReports: null }, fhirServer: undefined });
    expect(notes.texts.map((t) => [t.reference, t.text])).toEqual([['DocumentReference/bad-utf8', 'Denies fever \uFFFD( chills.']]);
    expect(notes.unread).toEqual({ undecodable: 1, 'unsupported-format': 1 });
    expect(notes.unsupportedFormats).toEqual(['application/pdf']);
  });

  test("with prefetch alone and no FHIR server, a note's Binary cannot be fetched: fetch-failed, no error", async () => {
    const documents = [note('', { content: [{ contentType: 'text/plain', url: 'Binary/hpi' }] })];
    const notes = await notesOf({ prefetch: { documentReferences: searchset(documents) }, fhirServer: undefined });
    expect(notes.unread).toEqual({ 'fetch-failed': 1 });
  });
});
