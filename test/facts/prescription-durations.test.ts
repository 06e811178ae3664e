import type { Duration, MedicationRequest } from 'fhir/r4.js';
import fc from 'fast-check';
import { prescriptionEnd, supplyMs } from '../../src/facts/rules/care.js';
import { NOW, condition, dayAgo, daysAgo, fact, lumbarStudy, medication, valueOf } from '../support/clinical.js';

const DAY = 86_400_000;
const backPain = condition('M54.50', { onset: daysAgo(200) });

/** A naproxen prescription authored `authored` with a supply duration and repeats as an EHR sends them. */
function naproxen(authored: string, supply?: Duration, repeats?: number, status: MedicationRequest['status'] = 'active'): MedicationRequest {
  const m = medication('7258', 'naproxen', authored, status);
  if (supply !== undefined || repeats !== undefined) {
    m.dispenseRequest = { ...(supply ? { expectedSupplyDuration: supply } : {}), ...(repeats !== undefined ? { numberOfRepeatsAllowed: repeats } : {}) };
  }
  return m;
}

const days = (value: number): Duration => ({ value, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' });
const span = (resources: MedicationRequest[]): string | undefined => fact('fact.conservative-care-4wk', { resources: [backPain, ...resources] }).detail;

describe('an active prescription runs for its supply × (1 + repeats) (SPEC §4.1)', () => {
  test('a 30-day supply of naproxen with one refill, written 70 days ago, is 60 days of conservative care', () => {
    expect(span([naproxen(dayAgo(70), days(30), 1)])).toBe(`60 days, from ${dayAgo(70)} to ${dayAgo(10)}`);
  });
  test('a 10-day supply without refills, written 35 days ago, is only 10 days: the rest must be asked', () => {
    const f = fact('fact.conservative-care-4wk', { resources: [backPain, naproxen(dayAgo(35), days(10))] });
    expect(f.value).toBe('unknown');
    expect(f.detail).toBe(`10 days, from ${dayAgo(35)} to ${dayAgo(25)}`);
  });
  test('two weeks (UCUM wk) with one refill are 28 days, enough', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, naproxen(dayAgo(40), { value: 2, unit: 'wk', system: 'http://unitsofmeasure.org', code: 'wk' }, 1)] })).toBe('true');
  });
  test('one month (UCUM mo) is 30 days', () => {
    expect(span([naproxen(dayAgo(100), { value: 1, system: 'http://unitsofmeasure.org', code: 'mo' })])).toBe(`30 days, from ${dayAgo(100)} to ${dayAgo(70)}`);
  });
  test('a supply given only as unit text, "4 weeks", is 28 days', () => {
    expect(span([naproxen(dayAgo(100), { value: 4, unit: 'weeks' })])).toBe(`28 days, from ${dayAgo(100)} to ${dayAgo(72)}`);
  });
  test('72 hours (UCUM h) are three days', () => {
    expect(supplyMs({ value: 72, code: 'h' })).toBe(3 * DAY);
  });
});

describe('an active prescription without a readable supply runs for 90 days', () => {
  test('naproxen written 35 days ago without a supply still counts up to now: 35 days', () => {
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, naproxen(daysAgo(35))] })).toBe('true');
  });
  test('naproxen written 150 days ago without a supply ran 90 days, ending 60 days ago', () => {
    expect(span([naproxen(dayAgo(150))])).toBe(`90 days, from ${dayAgo(150)} to ${dayAgo(60)}`);
  });
  test('a supply in an unknown unit ("fortnight") counts as none: 90 days', () => {
    expect(span([naproxen(dayAgo(150), { value: 2, unit: 'fortnight', code: 'fortnight' }, 3)])).toBe(`90 days, from ${dayAgo(150)} to ${dayAgo(60)}`);
  });
  test('a supply without a number counts as none', () => {
    expect(supplyMs({ unit: 'days', code: 'd' })).toBeUndefined();
  });
  test('a supply with a number but no unit at all counts as none', () => {
    expect(supplyMs({ value: 30 })).toBeUndefined();
  });
  test('a negative or zero supply counts as none', () => {
    expect(supplyMs(days(-5))).toBeUndefined();
    expect(supplyMs(days(0))).toBeUndefined();
  });
});

describe('an active prescription ends no later than now', () => {
  test('a 60-day supply with two refills written 20 days ago has run 20 days so far', () => {
    expect(span([naproxen(dayAgo(20), days(60), 2)])).toBe(`20 days, from ${dayAgo(20)} to ${dayAgo(0)}`);
  });
  test('the sandbox patient\'s naproxen prescription of 1954, still "active", is not current therapy', () => {
    const f = fact('fact.conservative-care-4wk', { resources: [backPain, naproxen('1954-06-01')] });
    expect(f.value).toBe('unknown');
    expect(f.detail).toBe('none in the last 180 days');
  });
  test('nor is it treatment after a lumbar MRI 40 days ago', () => {
    expect(valueOf('fact.treatment-since-imaging', { resources: [lumbarStudy(daysAgo(40)), naproxen('1954-06-01')] })).toBe('false');
  });
  test('a 1954 prescription with a 30-day supply and 999 refills (82 years of supply) ends now, not in 2036', () => {
    const m = naproxen('1954-06-01', days(30), 999);
    expect(prescriptionEnd(m, 'active', Date.parse('1954-06-01'), NOW)).toBe(NOW);
  });
  test('a 1954 prescription with a 30-day supply and 99 refills ended in 1962', () => {
    const m = naproxen('1954-06-01', days(30), 99);
    expect(new Date(prescriptionEnd(m, 'active', Date.parse('1954-06-01'), NOW)).getUTCFullYear()).toBe(1962);
  });
});

describe('a completed prescription ends at authoredOn plus its supply', () => {
  test('a completed 30-day supply with two refills counts 30 days: the refills were not necessarily taken', () => {
    expect(span([naproxen(dayAgo(60), days(30), 2, 'completed')])).toBe(`30 days, from ${dayAgo(60)} to ${dayAgo(30)}`);
  });
  test('a completed prescription whose supply cannot be read lasts its one day', () => {
    expect(span([naproxen(dayAgo(60), { value: 30, code: 'fortnight' }, undefined, 'completed')])).toBe(`0 days, from ${dayAgo(60)} to ${dayAgo(60)}`);
  });
});

describe('durations, for any prescription', () => {
  const arbitrary = fc.record({
    startDaysAgo: fc.integer({ min: -30, max: 30_000 }),
    supply: fc.option(fc.record({ value: fc.double({ min: -10, max: 1000, noNaN: true }), code: fc.constantFrom('d', 'wk', 'mo', 'h', 'a', 'fortnight', '') }), { nil: undefined }),
    repeats: fc.option(fc.oneof(fc.integer({ min: -3, max: 50 }), fc.double({ noNaN: true })), { nil: undefined }),
  });
  test('an active one never ends after now, nor before it starts unless it starts after now', () => {
    fc.assert(
      fc.property(arbitrary, ({ startDaysAgo, supply, repeats }) => {
        const start = NOW - startDaysAgo * DAY;
        const m = naproxen(new Date(start).toISOString(), supply, repeats);
        const end = prescriptionEnd(m, 'active', start, NOW);
        return end <= NOW && (start > NOW || end >= start);
      }),
    );
  });
  test('an active one without a readable supply runs exactly 90 days when it started long enough ago', () => {
    fc.assert(
      fc.property(fc.integer({ min: 90, max: 30_000 }), fc.constantFrom(undefined, { value: 30 }, { value: 0, code: 'd' }, { value: 3, code: 'x' }), (ago, supply) => {
        const start = NOW - ago * DAY;
        return prescriptionEnd(naproxen(new Date(start).toISOString(), supply), 'active', start, NOW) === start + 90 * DAY;
      }),
    );
  });
});
