import fc from 'fast-check';
import { compareDates, onOrAfter, parseFhirDate, truncate, type FhirDate } from '../../src/facts/fhir-dates.js';

/**
 * The reading of SPEC §2 Dates written as one regular expression: the grammar the hand-written scanner
 * must accept, value for value. Kept here as the oracle the scanner is checked against.
 */
const GRAMMAR =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

function oracle(value: string): FhirDate | undefined {
  const m = GRAMMAR.exec(value.trim());
  if (!m) {
    return undefined;
  }
  const year = Number(m[1]);
  const month = m[2] !== undefined ? Number(m[2]) : 1;
  const day = m[3] !== undefined ? Number(m[3]) : 1;
  const lastDay = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0) ? 1 : 0);
  if (month < 1 || month > 12 || day < 1 || day > lastDay) {
    return undefined;
  }
  if (m[4] === undefined) {
    return { start: Date.UTC(year, month - 1, day), precision: m[3] !== undefined ? 'day' : m[2] !== undefined ? 'month' : 'year' };
  }
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), m[6] !== undefined ? Number(m[6]) : 0];
  if (hour > 24 || minute > 59 || second > 60) {
    return undefined;
  }
  const millis = m[7] !== undefined ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const zone = m[8];
  const offset = zone && zone !== 'Z' ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) : 0;
  return { start: Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000, precision: 'time' };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Strings shaped like FHIR dates, with every part optional and some parts out of range or malformed. */
const dateLike = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.stringMatching(/^\d{0,11}$/),
    separator: fc.constantFrom('T', ' ', 't', '_'),
    gap: fc.constantFrom('', ' ', '  ', '\u00a0', '\t'),
    zone: fc.constantFrom('', 'Z', 'z', '+05:30', '-04:00', '+0530', '-0400', '+05', '+5:30', '-04:00Z'),
    parts: fc.integer({ min: 1, max: 7 }),
    padding: fc.constantFrom('', ' ', '\n'),
    junk: fc.constantFrom('', '', '', 'x', '-', ':'),
  })
  .map((d) => {
    let text = pad(d.year, 4);
    if (d.parts >= 2) text += `-${pad(d.month, 2)}`;
    if (d.parts >= 3) text += `-${pad(d.day, 2)}`;
    if (d.parts >= 4) text += `${d.separator}${pad(d.hour, 2)}:${pad(d.minute, 2)}`;
    if (d.parts >= 5) text += `:${pad(d.second, 2)}`;
    if (d.parts >= 6) text += `.${d.fraction}`;
    if (d.parts >= 4) text += `${d.gap}${d.zone}`;
    return `${d.padding}${text}${d.junk}${d.padding}`;
  });

describe('reading FHIR dates (SPEC §2 Dates)', () => {
  it('a birth date of 1960-03-15 is that calendar day', () => {
    expect(parseFhirDate('1960-03-15')).toEqual({ start: Date.UTC(1960, 2, 15), precision: 'day' });
  });

  it('an onset of "2019" alone is the year 2019, compared by year', () => {
    const onset = parseFhirDate('2019');
    expect(onset).toEqual({ start: Date.UTC(2019, 0, 1), precision: 'year' });
    expect(compareDates(onset as FhirDate, parseFhirDate('2019-11-30T23:00:00Z') as FhirDate)).toBe(0);
  });

  it('a temperature taken at 08:30 in New York is 13:30 UTC', () => {
    expect(parseFhirDate('2026-11-20T08:30:00-05:00')).toEqual({ start: Date.UTC(2026, 10, 20, 13, 30), precision: 'time' });
  });

  it('an observation time with nanoseconds and no zone is read to the millisecond, as UTC', () => {
    expect(parseFhirDate('2026-11-20T08:30:00.123456789')?.start).toBe(Date.UTC(2026, 10, 20, 8, 30, 0, 123));
  });

  it('an impossible date (30 February) or a date in another format is no date at all', () => {
    for (const text of ['2026-02-30', '2025-02-29', '20/11/2026', '2026-11-20T25:00:00Z', '2026-11-20T08:30:00+5', 'yesterday', '']) {
      expect(parseFhirDate(text)).toBeUndefined();
    }
    expect(parseFhirDate('2024-02-29')).toBeDefined();
    expect(parseFhirDate(20261120)).toBeUndefined();
  });

  it('the same timestamp read twice, as a panel of vital signs repeats it, gives the same date', () => {
    const first = parseFhirDate('2026-11-20T08:30:00Z');
    parseFhirDate('2026-11-19');
    expect(parseFhirDate('2026-11-20T08:30:00Z')).toEqual(first);
  });

  it('a date-only onset on the first day of a 42-day window is inside it, whatever the hour of "now"', () => {
    const now = Date.UTC(2026, 10, 23, 17, 45);
    expect(onOrAfter(parseFhirDate('2026-10-12') as FhirDate, now - 42 * 86_400_000)).toBe(true);
    expect(onOrAfter(parseFhirDate('2026-10-11') as FhirDate, now - 42 * 86_400_000)).toBe(false);
  });

  it('any instant, from 1700 to 2300, truncates to the start of its UTC day, month and year', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1700, 0, 1), max: Date.UTC(2300, 0, 1) }), (ms) => {
        const d = new Date(ms);
        expect(truncate(ms, 'day')).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
        expect(truncate(ms, 'month')).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
        expect(truncate(ms, 'year')).toBe(Date.UTC(d.getUTCFullYear(), 0, 1));
        expect(truncate(ms, 'time')).toBe(ms);
      }),
      { numRuns: 5_000 },
    );
  });

  it('every date-shaped text is read exactly as the regular grammar of SPEC §2 reads it', () => {
    fc.assert(
      fc.property(dateLike, (text) => {
        expect(parseFhirDate(text)).toEqual(oracle(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('arbitrary text is read exactly as the regular grammar reads it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        expect(parseFhirDate(text)).toEqual(oracle(text));
      }),
      { numRuns: 5_000 },
    );
  });
});
