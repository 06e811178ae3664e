import fc from 'fast-check';
import { pruneEmpty } from '../../src/crd/coverage-information.js';
import { loadCardTemplates } from '../../src/cds/card-templates.js';
import { md, unreadNotesSentence } from '../../src/cds/render-card.js';

/** Escape every markdown character and fold whitespace: what md must do to any text from the record. */
const rewrite = (text: string): string => text.replace(/[\\`*_[\]<>|~]/g, '\\$&').replace(/\s+/g, ' ').trim();

describe('text from the record in a card', () => {
  it('a condition named with markdown characters is shown literally, not as markup', () => {
    expect(md('Low back pain [link](http://x) **bold** <img>')).toBe('Low back pain \\[link\\](http://x) \\*\\*bold\\*\\* \\<img\\>');
  });

  it('a display with line breaks and runs of spaces reads as one line', () => {
    expect(md('  Lumbar\nradiculopathy\t\tleft  ')).toBe('Lumbar radiculopathy left');
  });

  it('plain words come back unchanged', () => {
    expect(md('Sciatica, left side')).toBe('Sciatica, left side');
  });

  it('any text is escaped exactly as the full rewrite escapes it', () => {
    const whitespaceHeavy = fc.array(fc.constantFrom('a', ' ', '  ', '\n', '\t', '\u00a0', '*', '_', '\\', '`', 'é'), { maxLength: 20 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), whitespaceHeavy), (text) => {
        expect(md(text)).toBe(rewrite(text));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('the order copied into the CRD coverage-information action', () => {
  /** Drop null, "", [] and {} all the way down: the CDS Hooks rule for JSON values. */
  const reference = (value: unknown): unknown => {
    if (value === null || value === '') return undefined;
    if (Array.isArray(value)) {
      const items = value.map(reference).filter((v) => v !== undefined);
      return items.length > 0 ? items : undefined;
    }
    if (typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => [k, reference(v)] as const)
        .filter(([, v]) => v !== undefined);
      return entries.length > 0 ? Object.fromEntries(entries) : undefined;
    }
    return value;
  };

  it('a draft order with empty fields loses exactly its empty values, and the original is left as it was', () => {
    const order = JSON.parse('{"resourceType":"ServiceRequest","note":[],"code":{"coding":[{"code":"72148","display":""}],"text":null},"__proto__":{"x":1}}') as object;
    const before = JSON.stringify(order);
    const copy = pruneEmpty(order) as Record<string, unknown>;
    expect(copy).toEqual(reference(order));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toContain('__proto__');
    expect(JSON.stringify(order)).toBe(before);
    expect(copy.code).not.toBe((order as Record<string, unknown>).code);
  });

  it('any JSON value is pruned exactly as the rule says', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.stringify(pruneEmpty(value))).toBe(JSON.stringify(reference(value)));
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('the sentence on the card about notes that could not be read (SPEC §8.1)', () => {
  const wording = loadCardTemplates().detail.notesUnread;

  it('says nothing when every note was read', () => {
    expect(unreadNotesSentence({ unread: {}, unsupportedFormats: [] }, wording)).toBeUndefined();
  });

  it('counts the notes, then each reason with its count, naming the formats', () => {
    expect(unreadNotesSentence({ unread: { 'unsupported-format': 1, 'other-host': 1 }, unsupportedFormats: ['application/pdf'] }, wording)).toBe(
      '2 notes could not be read: 1 in an unsupported format (PDF), 1 held on another server.',
    );
  });

  it('names a single unread note in the singular', () => {
    expect(unreadNotesSentence({ unread: { 'fetch-failed': 1 }, unsupportedFormats: [] }, wording)).toBe("1 note could not be read: 1 not retrieved from the EHR's FHIR server.");
  });

  it('names the limits a note was left out past', () => {
    expect(unreadNotesSentence({ unread: { 'over-limit': 900 }, unsupportedFormats: [] }, wording)).toBe(
      '900 notes could not be read: 900 past the limit of 100 texts or 2,000,000 characters read per request.',
    );
  });

  it('names any image as an image, once, and shows an unknown format as written, escaped', () => {
    const sentence = unreadNotesSentence({ unread: { 'unsupported-format': 3, undecodable: 1 }, unsupportedFormats: ['image/jpeg', 'image/png', 'application/x_scan'] }, wording);
    expect(sentence).toBe('4 notes could not be read: 3 in an unsupported format (image, application/x\\_scan), 1 not validly encoded.');
  });
});
