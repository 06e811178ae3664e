import type { Attachment, DocumentReference, Resource } from 'fhir/r4.js';
import fc from 'fast-check';
import { noteTextUrls, planNotes } from '../../src/facts/note-plan.js';
import { base64ByteLength, decodeText, noteTextsOf, readNoteTexts, type NoteTexts } from '../../src/facts/note-texts.js';
import { RecordIndex } from '../../src/facts/record-index.js';
import type { SourceFailure, SourceType } from '../../src/fhir/patient-record.js';
import { daysAgo, patient } from '../support/clinical.js';
import { base64, binary, narrativeReport, note, withFailedReads } from '../support/notes.js';
import { recordOf } from '../support/record.js';

function textsOf(resources: readonly Resource[], unreadable: Partial<Record<SourceType, SourceFailure>> = {}, limits?: { texts: number; characters: number }): NoteTexts {
  return readNoteTexts(recordOf(patient(), resources, unreadable), limits);
}

const HPI = 'HPI: 61 yo woman with 3 weeks of low back pain. Denies saddle anesthesia.';

describe('which texts are read (SPEC §8.1)', () => {
  test("a progress note's text is read exactly as written, with the note's type as its label", () => {
    const n = note(HPI, { id: 'n1', type: 'Progress note' });
    const { texts, unread, partlyRead } = textsOf([n]);
    expect(texts).toEqual([expect.objectContaining({ reference: 'DocumentReference/n1', part: 'content[0]', text: HPI, html: false, label: 'Progress note', source: 'document' })]);
    expect(unread).toEqual({});
    expect(partlyRead).toBe(false);
  });

  test('a note is dated by the start of its period when it has one, else by its date', () => {
    const [withPeriod] = textsOf([note('a', { periodStart: '2026-10-01', date: daysAgo(1) })]).texts;
    const [withDate] = textsOf([note('b', { date: '2026-11-20T09:00:00Z' })]).texts;
    expect(withPeriod?.date).toEqual({ start: Date.parse('2026-10-01T00:00:00Z'), precision: 'day' });
    expect(withDate?.date?.start).toBe(Date.parse('2026-11-20T09:00:00Z'));
  });

  test('notes are read newest first, and undated notes after every dated one', () => {
    const notes = [note('old', { date: daysAgo(40) }), note('undated', { date: null }), note('new', { date: daysAgo(1) }), note('middle', { date: daysAgo(10) })];
    expect(textsOf(notes).texts.map((t) => t.text)).toEqual(['new', 'middle', 'old', 'undated']);
  });

  test('a note entered in error, or one no longer current, is not read and not counted', () => {
    const notes = [note('wrong patient', { docStatus: 'entered-in-error' }), note('replaced', { status: 'superseded' }), note('kept', { status: 'CURRENT ' })];
    const { texts, unread } = textsOf(notes);
    expect(texts.map((t) => t.text)).toEqual(['kept']);
    expect(unread).toEqual({});
  });

  test('an HTML note keeps its markup and says it is HTML; content-type parameters are ignored', () => {
    const html = '<p><b>HPI:</b> difficulty voiding &amp; weak stream</p>';
    const [t] = textsOf([note(html, { content: [{ contentType: 'Text/HTML; charset=utf-8', data: base64(html) }] })]).texts;
    expect(t).toMatchObject({ text: html, html: true });
  });

  test('an attachment that names no content type is read as plain text', () => {
    expect(textsOf([note('x', { content: [{ data: base64('plain words') }] })]).texts[0]).toMatchObject({ text: 'plain words', html: false });
  });

  test('a PDF note is not read, and is counted as an unsupported format naming PDF', () => {
    const pdf = note('', { content: [{ contentType: 'application/pdf', data: base64('%PDF-1.4 fever 39.2 C') }] });
    const result = textsOf([pdf, note('readable')]);
    expect(result.texts.map((t) => t.text)).toEqual(['readable']);
    expect(result.unread).toEqual({ 'unsupported-format': 1 });
    expect(result.unsupportedFormats).toEqual(['application/pdf']);
    expect(result.partlyRead).toBe(true);
  });

  test('a PDF copy beside the HTML text of the same note leaves nothing unread', () => {
    const both = note('', { content: [{ contentType: 'text/html', data: base64('<p>note</p>') }, { contentType: 'application/pdf', data: base64('%PDF') }] });
    const result = textsOf([both]);
    expect(result.texts.map((t) => t.part)).toEqual(['content[0]']);
    expect(result.partlyRead).toBe(false);
  });

  test("a report's conclusion and its text presented form are read, the report attached; a registered report's are not", () => {
    const ct = narrativeReport({ id: 'ct', conclusion: 'Indeterminate lesion at L3.', presentedForm: [{ contentType: 'text/plain', data: base64('FINDINGS: ...') }] });
    const pending = narrativeReport({ id: 'pending', status: 'registered', conclusion: 'Not yet read.' });
    const { texts } = textsOf([ct, pending]);
    expect(texts.map((t) => [t.reference, t.part, t.text, t.label])).toEqual([
      ['DiagnosticReport/ct', 'conclusion', 'Indeterminate lesion at L3.', 'CT Lumbar spine'],
      ['DiagnosticReport/ct', 'presentedForm[0]', 'FINDINGS: ...', 'CT Lumbar spine'],
    ]);
    expect(texts[0]?.report).toBe(ct);
    expect(texts[0]?.source).toBe('report');
  });

  test("a report read by its conclusion whose full text is only a PDF was not read in full", () => {
    const result = textsOf([narrativeReport({ conclusion: 'No acute findings.', presentedForm: [{ contentType: 'application/pdf', data: base64('%PDF') }] })]);
    expect(result.texts.map((t) => t.part)).toEqual(['conclusion']);
    expect(result.unread).toEqual({ 'unsupported-format': 1 });
  });

  test('a lab report without narrative is no note at all', () => {
    expect(textsOf([narrativeReport({})])).toMatchObject({ texts: [], partlyRead: false });
  });
});

describe('decoding (SPEC §8.1: base64 of UTF-8)', () => {
  test.each([
    ['a character outside the alphabet', 'SGVsbG8*'],
    ['a length that is not a multiple of four', 'SGVsbG8'],
    ['padding in the middle', 'SGVs=bG8='],
    ['three padding characters', 'SGV==='],
    ['the URL-safe alphabet', 'SGVs-_8='],
  ])('data with %s is counted as undecodable, not guessed at', (_what, data) => {
    const result = textsOf([note('', { content: [{ contentType: 'text/plain', data }] })]);
    expect(result.texts).toEqual([]);
    expect(result.unread).toEqual({ undecodable: 1 });
  });

  test('base64 broken over lines (MIME) is read', () => {
    const wrapped = base64(HPI).replace(/(.{16})/g, '$1\r\n');
    expect(textsOf([note('', { content: [{ data: wrapped }] })]).texts[0]?.text).toBe(HPI);
  });

  test('invalid UTF-8 never fails the note: each bad byte becomes U+FFFD and offsets after it stay those of the decoded text', () => {
    const bytes = Buffer.concat([Buffer.from('Fever '), Buffer.from([0xe9, 0xff]), Buffer.from(' denies saddle anesthesia')]);
    const [t] = textsOf([note('', { content: [{ data: bytes.toString('base64') }] })]).texts;
    expect(t?.text).toBe('Fever \uFFFD\uFFFD denies saddle anesthesia');
    expect(t?.text.slice(t.text.indexOf('saddle'))).toBe('saddle anesthesia');
  });

  test('a byte-order mark is kept, so offsets agree with any other reader of the same bytes', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('fever')]);
    const [t] = textsOf([note('', { content: [{ data: bytes.toString('base64') }] })]).texts;
    expect(t?.text).toBe(bytes.toString('utf8'));
    expect(t?.text.indexOf('fever')).toBe(1);
  });

  test('data that is not a string is undecodable', () => {
    expect(decodeText(42, 100)).toEqual({ reason: 'undecodable' });
  });
});

describe('Binaries (SPEC §8.1)', () => {
  const byUrl = (url: string, contentType = 'text/plain'): DocumentReference => note('', { content: [{ contentType, url }] });

  test('a note whose text is in a Binary read by the follow-up is read from it', () => {
    const result = textsOf([byUrl('Binary/b1'), binary('b1', HPI)]);
    expect(result.texts.map((t) => t.text)).toEqual([HPI]);
  });

  test('a Binary that could not be fetched counts as fetch-failed, one on another host as other-host', () => {
    const record = recordOf(patient(), [byUrl('Binary/gone'), byUrl('https://elsewhere.example/Binary/1')]);
    const result = readNoteTexts(withFailedReads(record, { 'Binary/gone': 'timeout', 'https://elsewhere.example/Binary/1': 'other-host' }));
    expect(result.unread).toEqual({ 'fetch-failed': 1, 'other-host': 1 });
    expect(result.partlyRead).toBe(true);
  });

  test('a text url the follow-up never read is not pretended read', () => {
    expect(textsOf([byUrl('Binary/never-fetched')]).unread).toEqual({ 'fetch-failed': 1 });
  });

  test('a Binary holding a PDF behind a text/plain attachment is an unsupported format', () => {
    const result = textsOf([byUrl('Binary/scan'), binary('scan', '%PDF-1.4', 'application/pdf')]);
    expect(result.unread).toEqual({ 'unsupported-format': 1 });
    expect(result.unsupportedFormats).toEqual(['application/pdf']);
  });

  test('a Binary without data, or something other than a Binary, is no readable text', () => {
    const empty = { resourceType: 'Binary', id: 'empty', contentType: 'text/plain' } as Resource;
    const notBinary = { resourceType: 'Organization', id: 'org' } as Resource;
    expect(textsOf([byUrl('Binary/empty'), byUrl('Organization/org'), empty, notBinary]).unread).toEqual({ 'fetch-failed': 2 });
  });

  test('an attachment with no content type takes HTML from its Binary', () => {
    const result = textsOf([note('', { content: [{ url: 'Binary/h' }] }), binary('h', '<p>x</p>', 'text/html')]);
    expect(result.texts[0]).toMatchObject({ text: '<p>x</p>', html: true });
  });

  test('a Binary contained in the note is read from the note itself', () => {
    const contained = { resourceType: 'Binary', id: 'inline', contentType: 'text/plain', data: base64('contained text') } as Resource;
    expect(textsOf([note('', { content: [{ contentType: 'text/plain', url: '#inline' }], contained: [contained] })]).texts[0]?.text).toBe('contained text');
  });
});

describe('the limits (SPEC §8.1: 100 texts, 2,000,000 characters, newest first)', () => {
  test('of 150 notes only the newest 100 are read, and the other 50 are counted over the limit', () => {
    const notes = Array.from({ length: 150 }, (_, i) => note(`note ${i}`, { date: daysAgo(i) }));
    const result = textsOf(notes);
    expect(result.texts).toHaveLength(100);
    expect(result.texts.at(-1)?.text).toBe('note 99');
    expect(result.unread).toEqual({ 'over-limit': 50 });
    expect(result.partlyRead).toBe(true);
  });

  test('a text that would pass the character budget is left out whole and counted; older, shorter texts still fit', () => {
    const result = textsOf([note('x'.repeat(30), { date: daysAgo(1) }), note('y'.repeat(30), { date: daysAgo(2) }), note('z'.repeat(10), { date: daysAgo(3) })], {}, { texts: 100, characters: 45 });
    expect(result.texts.map((t) => t.text[0])).toEqual(['x', 'z']);
    expect(result.characters).toBe(40);
    expect(result.unread).toEqual({ 'over-limit': 1 });
  });

  test('a 5 MB attachment is left out whole and the other notes are still read', () => {
    const big = 'low back pain. '.repeat(350_000);
    const result = textsOf([note(big, { date: daysAgo(1) }), note(HPI, { date: daysAgo(2) })]);
    expect(big.length).toBeGreaterThan(5_000_000);
    expect(result.texts.map((t) => t.text)).toEqual([HPI]);
    expect(result.unread).toEqual({ 'over-limit': 1 });
  });

  test("a conclusion past the budget is left out like any other text", () => {
    const result = textsOf([narrativeReport({ conclusion: 'c'.repeat(20) })], {}, { texts: 5, characters: 10 });
    expect(result.texts).toEqual([]);
    expect(result.unread).toEqual({ 'over-limit': 1 });
  });

  test('the follow-up fetches only Binaries the selection will read: none past the 100th text, none held inline, none contained', () => {
    const notes = Array.from({ length: 120 }, (_, i) => note('', { date: daysAgo(i), content: [{ contentType: 'text/plain', url: `Binary/b${i}` }] }));
    const inline = note('inline', { date: daysAgo(0) });
    const contained = note('', { date: daysAgo(0), content: [{ url: '#c' }] });
    const pdf = note('', { date: daysAgo(0), content: [{ contentType: 'application/pdf', url: 'Binary/pdf' }] });
    const urls = noteTextUrls(recordOf(patient(), [...notes, inline, contained, pdf]));
    // The inline and contained texts take two of the hundred places; the PDF takes none and is not fetched.
    expect(urls).toHaveLength(98);
    expect(urls[0]).toBe('Binary/b0');
    expect(urls.at(-1)).toBe('Binary/b97');
  });
});

describe('what the notes source says about itself', () => {
  test('when the notes query failed, the notes are partly read and say why; what was retrieved is still read', () => {
    const result = textsOf([note('retrieved before the failure')], { DocumentReference: 'page-limit' });
    expect(result.texts).toHaveLength(1);
    expect(result).toMatchObject({ partlyRead: true, queryFailed: 'page-limit' });
  });

  test('when the notes query failed and nothing came back, the notes are partly read', () => {
    expect(textsOf([], { DocumentReference: 'timeout' })).toMatchObject({ texts: [], partlyRead: true, queryFailed: 'timeout' });
  });

  test("when the reports query failed, the reports' texts were not read: partly read", () => {
    expect(textsOf([note('x')], { DiagnosticReport: 'server-error' }).partlyRead).toBe(true);
  });

  test('a patient without notes has nothing to read and nothing left unread', () => {
    expect(textsOf([])).toEqual({ texts: [], characters: 0, unread: {}, unsupportedFormats: [], partlyRead: false });
  });

  test("several orders of one request read the texts once: they are kept on the request's record index", () => {
    const index = new RecordIndex(recordOf(patient(), [note('a'), note('b', { docStatus: 'entered-in-error' })]));
    expect(noteTextsOf(index)).toBe(noteTextsOf(index));
    expect(index.documents).toHaveLength(1);
  });
});

describe('properties', () => {
  test('any string as base64 data never throws: it is read, or counted undecodable', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AZaz09+/=- \n!é'.split('')), maxLength: 40 }), (data) => {
        const result = textsOf([note('', { content: [{ data }] })]);
        expect(result.texts.length + (result.unread.undecodable ?? 0)).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });

  test('a note or report of any shape never throws, and counts each note at most once', () => {
    const attachment = fc.record(
      { contentType: fc.oneof(fc.constantFrom('text/plain', 'TEXT/HTML;x', 'image/png'), fc.jsonValue()), data: fc.oneof(fc.string(), fc.jsonValue()), url: fc.oneof(fc.constantFrom('Binary/b', '#c', 'http://x/Binary/1'), fc.jsonValue()), title: fc.jsonValue() },
      { requiredKeys: [] },
    );
    const documentLike = fc.record(
      { resourceType: fc.constant('DocumentReference'), id: fc.oneof(fc.string(), fc.jsonValue()), status: fc.oneof(fc.constant('current'), fc.jsonValue()), docStatus: fc.jsonValue(), date: fc.oneof(fc.constant(daysAgo(3)), fc.jsonValue()), context: fc.jsonValue(), contained: fc.oneof(fc.constant([{ resourceType: 'Binary', id: 'c', data: base64('x') }]), fc.jsonValue()), type: fc.jsonValue(), description: fc.jsonValue(), content: fc.oneof(fc.array(fc.oneof(fc.record({ attachment }), fc.jsonValue()), { maxLength: 3 }), fc.jsonValue()) },
      { requiredKeys: ['resourceType'] },
    );
    const reportLike = fc.record(
      { resourceType: fc.constant('DiagnosticReport'), status: fc.oneof(fc.constant('final'), fc.jsonValue()), code: fc.jsonValue(), conclusion: fc.oneof(fc.string(), fc.jsonValue()), presentedForm: fc.oneof(fc.array(attachment, { maxLength: 3 }), fc.jsonValue()), effectivePeriod: fc.jsonValue(), issued: fc.jsonValue() },
      { requiredKeys: ['resourceType'] },
    );
    const binaryLike = fc.record({ resourceType: fc.constantFrom('Binary', 'Patient'), id: fc.constant('b'), contentType: fc.jsonValue(), data: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: ['resourceType', 'id'] });
    fc.assert(
      fc.property(fc.array(fc.oneof(documentLike, reportLike), { maxLength: 6 }), fc.option(binaryLike, { nil: undefined }), (resources, bin) => {
        const record = recordOf(patient(), [...(resources as unknown as Resource[]), ...(bin ? [bin as unknown as Resource] : [])]);
        const result = readNoteTexts(record);
        const counted = Object.values(result.unread).reduce((n, c) => n + (c ?? 0), 0);
        // A report may be both read (its conclusion) and counted (its PDF): each note is counted at most once.
        expect(counted).toBeLessThanOrEqual(planNotes(record).length);
        expect(result.partlyRead).toBe(counted > 0);
        expect(noteTextUrls(record).every((u) => typeof u === 'string')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  test('the strict base64 check agrees with RFC 4648 read as a regular expression (whitespace ignored)', () => {
    const alphabet = fc.constantFrom(...'ABYZabyz0189+/=-_ \n\t.'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 24 }), (data) => {
        const bare = data.replace(/[ \n\t\r\f]/g, '');
        const valid = bare.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(bare);
        expect(base64ByteLength(data) >= 0).toBe(valid);
        if (valid) {
          expect(base64ByteLength(data)).toBe(Buffer.from(bare, 'base64').length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('any bytes decode without throwing, exactly as a WHATWG UTF-8 reader keeping the byte-order mark does; any text round-trips', () => {
    const whatwg = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (bytes, text) => {
        expect(decodeText(Buffer.from(bytes).toString('base64'), 1000)).toBe(whatwg.decode(bytes));
        expect(decodeText(base64(text), 1000)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  test('the limits always hold, texts come newest first, and every note is read or counted exactly once', () => {
    const content = fc.oneof(
      fc.string({ maxLength: 30 }).map((t): Attachment => ({ contentType: 'text/plain', data: base64(t) })),
      fc.string({ maxLength: 30 }).map((t): Attachment => ({ contentType: 'text/html; charset=utf-8', data: base64(`<p>${t}</p>`) })),
      fc.constant<Attachment>({ contentType: 'application/pdf', data: base64('%PDF') }),
      fc.constant<Attachment>({ contentType: 'text/plain', data: '***' }),
      fc.constant<Attachment>({ contentType: 'text/plain', url: 'Binary/missing' }),
    );
    const aNote = fc.record({ day: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }), content });
    fc.assert(
      fc.property(fc.array(aNote, { maxLength: 40 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 200 }), (specs, maxTexts, maxChars) => {
        const notes = specs.map((s, i) => note('', { id: `n${i}`, date: s.day === undefined ? null : daysAgo(s.day), content: [s.content] }));
        const result = textsOf(notes, {}, { texts: maxTexts, characters: maxChars });
        expect(result.texts.length).toBeLessThanOrEqual(maxTexts);
        const total = result.texts.reduce((n, t) => n + t.text.length, 0);
        expect(total).toBe(result.characters);
        expect(total).toBeLessThanOrEqual(maxChars);
        for (let i = 1; i < result.texts.length; i++) {
          const [a, b] = [result.texts[i - 1]?.date?.start, result.texts[i]?.date?.start];
          expect(a === undefined ? b === undefined : b === undefined || a >= b).toBe(true);
        }
        const counted = Object.values(result.unread).reduce((n, c) => n + (c ?? 0), 0);
        expect(new Set(result.texts.map((t) => t.reference)).size + counted).toBe(notes.length);
        expect(result.partlyRead).toBe(counted > 0);
      }),
      { numRuns: 1000 },
    );
  });

  test('the follow-up never asks for more Binaries than the text limit', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 0, max: 30 }), (byUrl, limit) => {
        const notes = byUrl.map((url, i) => note(`t${i}`, { date: daysAgo(i), ...(url ? { content: [{ contentType: 'text/plain', url: `Binary/${i}` }] } : {}) }));
        const record = recordOf(patient(), notes);
        const urls = noteTextUrls(record, { texts: limit, characters: 2_000_000 });
        expect(urls.length).toBeLessThanOrEqual(limit);
        expect(urls).toEqual(byUrl.flatMap((url, i) => (url && i < limit ? [`Binary/${i}`] : [])));
        expect(planNotes(record)).toBe(planNotes(record));
      }),
      { numRuns: 500 },
    );
  });
});
