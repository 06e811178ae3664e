// Properties of the notes reader over generated texts (fast-check): it never throws, its offsets are exact, its
// quotes are short, its sentences hold their mentions.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isJsSpace } from '../../src/notes/assertion.js';
import { answerSentenceLine, assertionOf, htmlToText, quoteOf, readNote, type NoteReading } from '../../src/notes/index.js';
import { lexicon, NOTE_DATE } from './reader.js';

interface Listed {
  spec: string[];
  added?: string[];
}
const data = JSON.parse(readFileSync(new URL('../../policy/notes-lexicon.json', import.meta.url), 'utf8')) as {
  context: { triggers: { phrases: Listed }[]; termination: Listed; pseudo: Listed };
  phraseSets: Record<string, { phrases: Listed; negating?: Listed; notCounted?: Listed }>;
  sections: { groups: { headers: Listed }[] };
  care: { modalities: Listed };
};
const all = (l: Listed | undefined): string[] => (l === undefined ? [] : [...l.spec, ...(l.added ?? [])]);
const phrases = Object.values(data.phraseSets).flatMap((s) => [...all(s.phrases), ...all(s.negating), ...all(s.notCounted)]);
const triggers = [...data.context.triggers.flatMap((g) => all(g.phrases)), ...all(data.context.termination), ...all(data.context.pseudo)];
const headers = data.sections.groups.flatMap((g) => all(g.headers)).map((h) => `${h}:`);
const care = [...all(data.care.modalities), 'for 6 weeks', 'x6 wks', '3-week course of', 'since 10/21/2026', 'since September', 'started', '5 weeks ago'];

/** Words, phrases and marks of clinical notes, joined by assorted separators. */
const noteText = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...phrases) },
        { weight: 3, arbitrary: fc.constantFrom(...triggers) },
        { weight: 1, arbitrary: fc.constantFrom(...headers) },
        { weight: 1, arbitrary: fc.constantFrom(...care) },
        { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
        { weight: 1, arbitrary: fc.constantFrom('.', ',', ';', ':', '!', '?', '(', ')', '- ', '1. ', '• ', 'Dr.', 'No. 5', 'e.g.', '’s', 'é', '😀') },
      ),
      fc.constantFrom(' ', ' ', ' ', '  ', '-', '/', '\n', '\n\n', '\t', ' / ', '\r\n', ''),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.map(([w, sep]) => w + sep).join(''));

/** HTML-ish text: note text with tags, references and comments, well or badly formed. */
const htmlText = fc
  .array(
    fc.oneof(
      noteText,
      fc.constantFrom('<p>', '</p>', '<br>', '<br/>', '<div class="x">', '</div>', '<li>', '<ul>', '</ul>', '<tr><td>', '</td></tr>', '<h2>', '</h2>'),
      fc.constantFrom('<b>', '</b>', '<i>', '</i>', '<span style="a">', '</span>', '<!-- c -->', '<!--', '-->', '<script>x<y</script>', '<style>p{}</style>', '<'),
      fc.constantFrom('&amp;', '&lt;', '&nbsp;', '&#47;', '&#x2F;', '&bogus;', '&', '&#128512;', '&#0;', '&#xD800;', '&amp'),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** The words of a text, lower-cased (runs of letters, digits and marks). */
function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** Does `slice` read as `phrase` (its words, a plural on the last, flexible separators)? */
function readsAs(slice: string, phrase: string): boolean {
  const a = words(slice);
  const b = words(phrase);
  if (a.length !== b.length || a.length === 0) {
    return false;
  }
  return a.every((w, k) => w === b[k] || (k === a.length - 1 && (w === `${b[k]}s` || w === `${b[k]}es`)));
}

function checkReading(r: NoteReading): void {
  for (const m of r.mentions) {
    expect(m.sentence.start).toBeLessThanOrEqual(m.plainStart);
    expect(m.plainEnd).toBeLessThanOrEqual(m.sentence.end);
    expect(quoteOf(r, m.plainStart, m.plainEnd).length).toBeLessThanOrEqual(200);
    expect(quoteOf(r, m.plainStart, m.plainEnd, 40).length).toBeLessThanOrEqual(40);
  }
  for (const c of r.care) {
    expect(c.sentence.start).toBeLessThanOrEqual(c.modality.plainStart);
    expect(c.modality.plainEnd).toBeLessThanOrEqual(c.sentence.end);
  }
}

describe('the reader never throws', () => {
  test('on any string, as text or as HTML', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        checkReading(readNote(s, lexicon, { html: false, noteDate: NOTE_DATE }));
        checkReading(readNote(s, lexicon, { html: true }));
      }),
      { numRuns: 300 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('on lone surrogates and control characters', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }), (units) => {
        const s = String.fromCharCode(...units);
        checkReading(readNote(s, lexicon, { html: false }));
        checkReading(readNote(s, lexicon, { html: true }));
        assertionOf(s, s.slice(0, 10), lexicon);
      }),
      { numRuns: 200 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('on any HTML-ish string', () => {
    fc.assert(
      fc.property(htmlText, (s) => {
        checkReading(readNote(s, lexicon, { html: true, noteDate: NOTE_DATE }));
      }),
      { numRuns: 300 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('the sentence reader answers every line with one JSON object', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.tuple(noteText, fc.constantFrom(...phrases)).map(([text, target]) => JSON.stringify({ text, target }))), (line) => {
        const out = answerSentenceLine(line, lexicon);
        expect(out).not.toContain('\n');
        const parsed = JSON.parse(out) as Record<string, unknown>;
        expect(typeof parsed.found === 'boolean' || typeof parsed.error === 'string').toBe(true);
      }),
      { numRuns: 300 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
});

describe('offsets are exact', () => {
  test("in plain text, every mention's span slices back to its phrase (the text's own separators, plural included)", () => {
    fc.assert(
      fc.property(noteText, (s) => {
        const r = readNote(s, lexicon, { html: false, noteDate: NOTE_DATE });
        expect(r.text).toBe(s);
        for (const m of r.mentions) {
          const slice = s.slice(m.start, m.end);
          expect([m.start, m.end]).toEqual([m.plainStart, m.plainEnd]);
          expect(readsAs(slice, m.phrase)).toBe(true);
          expect(slice).toMatch(/^[\p{L}\p{N}]/u);
          expect(slice).toMatch(/[\p{L}\p{N}\p{M}]$/u);
        }
        for (const c of r.care) {
          expect(readsAs(s.slice(c.modality.start, c.modality.end), c.modality.phrase)).toBe(true);
        }
      }),
      { numRuns: 400 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('in HTML, the original slice of every mention renders to the plain text of the mention', () => {
    fc.assert(
      fc.property(htmlText, (s) => {
        const r = readNote(s, lexicon, { html: true, noteDate: NOTE_DATE });
        for (const m of r.mentions) {
          const plain = r.text.slice(m.plainStart, m.plainEnd);
          expect(htmlToText(s.slice(m.start, m.end)).text).toBe(plain);
          expect(readsAs(plain, m.phrase)).toBe(true);
        }
      }),
      { numRuns: 400 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('HTML with no markup reads like the text itself', () => {
    fc.assert(
      fc.property(noteText.filter((s) => !/[<&]/.test(s)), (s) => {
        expect(htmlToText(s).text).toBe(s);
      }),
      { numRuns: 200 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
});

describe('quotes and sets', () => {
  test('a quote is at most 200 characters, whitespace collapsed, and holds the mention when it fits', () => {
    fc.assert(
      fc.property(noteText, fc.integer({ min: 0, max: 400 }), (s, pad) => {
        const text = `${'word '.repeat(pad)}${s}${' more'.repeat(pad)}`;
        const r = readNote(text, lexicon, { html: false });
        for (const m of r.mentions) {
          const q = quoteOf(r, m.plainStart, m.plainEnd);
          expect(q.length).toBeLessThanOrEqual(200);
          expect(q).not.toMatch(/\s\s/);
          const phrase = r.text.slice(m.plainStart, m.plainEnd).split(/\s+/).join(' ');
          if (phrase.length <= 150) {
            expect(q).toContain(phrase);
          }
        }
      }),
      { numRuns: 200 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
  test('a span that ends before it starts quotes nothing, even in a text of blanks (a counterexample fast-check found)', () => {
    expect(quoteOf(readNote('  ', lexicon, { html: false }), 0, -1, 1)).toBe('');
  });
  test('the sentence a card quotes reads the same as collapsing its whitespace one character at a time', () => {
    // the quote as first written (a /\s/ test and a concatenation per character): the faster one must match it
    const reference = (reading: NoteReading, plainStart: number, plainEnd: number, max: number): string => {
      const text = reading.text;
      const s = reading.sentenceAt(plainStart) ?? { start: plainStart, end: plainEnd };
      const a = Math.max(s.start, Math.min(plainStart, s.end));
      const b = Math.max(a, Math.min(Math.max(plainEnd, a), s.end));
      const from = Math.max(s.start, a - 4 * max);
      const to = Math.min(s.end, b + 4 * max);
      let out = '';
      let spanA = 0;
      let spanB = 0;
      let space = false;
      for (let p = from; p < to; p++) {
        if (p === a) {
          spanA = out.length + (space && out.length > 0 ? 1 : 0);
        }
        const c = text.charAt(p);
        if (/\s/.test(c)) {
          space = true;
        } else {
          if (space && out.length > 0) {
            out += ' ';
          }
          space = false;
          out += c;
        }
        if (p === b - 1) {
          spanB = out.length;
        }
      }
      const cutLeft = from > s.start;
      const cutRight = to < s.end;
      if (out.length <= max && !cutLeft && !cutRight) {
        return out;
      }
      if (max < 3) {
        return out.slice(spanA, spanA + max);
      }
      const room = max - 2;
      const spanLen = Math.min(spanB - spanA, room);
      let left = Math.max(0, spanA - Math.floor((room - spanLen) / 2));
      let right = Math.min(out.length, left + room);
      left = Math.max(0, right - room);
      const ellipsisLeft = left > 0 || cutLeft;
      const ellipsisRight = right < out.length || cutRight;
      if (!ellipsisLeft) {
        right = Math.min(out.length, left + room + 1);
      }
      if (!ellipsisRight) {
        left = Math.max(0, right - room - (ellipsisLeft ? 0 : 1));
      }
      return `${ellipsisLeft ? '…' : ''}${out.slice(left, right).trim()}${ellipsisRight ? '…' : ''}`;
    };
    const spaces = fc.constantFrom(' ', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u0085', '\u200b', '\v', '\t\t', '\r\n');
    fc.assert(
      fc.property(noteText, fc.array(fc.tuple(fc.nat(), spaces)), fc.integer({ min: 0, max: 300 }), fc.integer({ min: -5, max: 400 }), fc.integer({ min: -5, max: 400 }), fc.integer({ min: 0, max: 250 }), (s, inserts, pad, x, y, max) => {
        let text = `${'word '.repeat(pad)}${s}${' more'.repeat(pad)}`;
        for (const [at, sp] of inserts) {
          const k = at % (text.length + 1);
          text = text.slice(0, k) + sp + text.slice(k);
        }
        const r = readNote(text, lexicon, { html: false });
        for (const m of r.mentions) {
          expect(quoteOf(r, m.plainStart, m.plainEnd, max)).toBe(reference(r, m.plainStart, m.plainEnd, max));
        }
        expect(quoteOf(r, x, x + y, max)).toBe(reference(r, x, x + y, max));
        expect(quoteOf(r, text.length - 3, text.length + 20, max)).toBe(reference(r, text.length - 3, text.length + 20, max));
      }),
      { numRuns: 300 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
    for (let c = 0; c < 0x10000; c++) {
      if (isJsSpace(c) !== /\s/.test(String.fromCharCode(c))) {
        throw new Error(`isJsSpace disagrees with /\\s/ on U+${c.toString(16)}`);
      }
    }
  });
  test('which words are mentions of a set does not depend on the other sets asked for', () => {
    const names = [...lexicon.defaultSets];
    fc.assert(
      fc.property(noteText, fc.constantFrom(...names), (s, set) => {
        const all = readNote(s, lexicon, { html: false }).mentions.filter((m) => m.set === set);
        const one = readNote(s, lexicon, { html: false, sets: new Set([set]) }).mentions;
        expect(one).toEqual(all);
      }),
      { numRuns: 200 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });
});
