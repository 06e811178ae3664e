import type { Extension, ServiceRequest } from 'fhir/r4.js';
import fc from 'fast-check';
import {
  ASSERTION_ID_PREFIX,
  COVERAGE_INFORMATION_URL,
  coverageInformationExtension,
  newAssertionId,
  withCoverageInformation,
  type CoverageAssertion,
} from '../../src/crd/coverage-information.js';
import { alreadyAsserted } from '../../src/crd/idempotence.js';
import { loadConfigurationOptions, readConfiguration, isOn } from '../../src/crd/configuration.js';
import { coverageInformationProblems } from '../support/conformance.js';
import { order } from '../support/clinical.js';

const approved: CoverageAssertion = { coverage: { reference: 'Coverage/c1' }, covered: 'covered', paNeeded: 'satisfied', date: '2026-11-23' };
const otherPayers: Extension = {
  url: COVERAGE_INFORMATION_URL,
  extension: [
    { url: 'coverage', valueReference: { reference: 'Coverage/secondary' } },
    { url: 'covered', valueCode: 'covered' },
    { url: 'date', valueDate: '2026-11-01' },
    { url: 'coverage-assertion-id', valueString: 'ACME-123' },
  ],
};

describe("the coverage-information this service writes on an order (CRD resp-35, resp-37)", () => {
  test('an approval carries a satisfied-pa-id equal to its assertion id, which is recognisably this service’s', () => {
    const id = newAssertionId();
    const ext = coverageInformationExtension(approved, id);
    expect(id.startsWith(ASSERTION_ID_PREFIX)).toBe(true);
    expect(id.length).toBeLessThanOrEqual(50);
    expect(ext.extension?.find((e) => e.url === 'satisfied-pa-id')?.valueString).toBe(id);
    expect(coverageInformationProblems(ext as never)).toEqual([]);
  });
  test('the order comes back unchanged but for this service’s extension; another payer’s is kept', () => {
    const signed: ServiceRequest = { ...order(), extension: [otherPayers] };
    const updated = withCoverageInformation(signed, coverageInformationExtension(approved, newAssertionId()));
    expect(updated.extension).toHaveLength(2);
    expect(updated.extension?.[0]).toEqual(otherPayers);
    const { extension: _a, ...rest } = updated;
    const { extension: _b, ...before } = signed;
    expect(rest).toEqual(before);
    expect(signed.extension).toHaveLength(1);
  });
  test('a changed outcome replaces this service’s earlier extension rather than adding a second', () => {
    const first = withCoverageInformation(order(), coverageInformationExtension(approved, newAssertionId()));
    const denied: CoverageAssertion = { coverage: { reference: 'Coverage/c1' }, covered: 'not-covered', reason: { text: 'Does not meet criteria: x' }, date: '2026-11-24' };
    const second = withCoverageInformation({ ...first, extension: [otherPayers, ...(first.extension ?? [])] }, coverageInformationExtension(denied, newAssertionId()));
    expect(second.extension).toHaveLength(2);
    expect(second.extension?.[1]?.extension?.find((e) => e.url === 'covered')?.valueCode).toBe('not-covered');
  });
  test('re-signing with the same outcome for the same coverage is recognised as nothing new, whatever the date', () => {
    const signed = withCoverageInformation(order(), coverageInformationExtension(approved, newAssertionId()));
    expect(alreadyAsserted(signed, { ...approved, date: '2026-12-01' })).toBe(true);
    expect(alreadyAsserted(signed, { ...approved, coverage: { reference: 'Coverage/c2' } })).toBe(false);
    expect(alreadyAsserted(signed, { ...approved, paNeeded: 'auth-needed', reason: { text: 'x' } })).toBe(false);
  });
  test('another payer’s identical assertion is not taken for this service’s', () => {
    const theirs: Extension = { ...coverageInformationExtension(approved, 'ACME-1') };
    const signed: ServiceRequest = { ...order(), extension: [theirs] };
    expect(alreadyAsserted(signed, approved)).toBe(false);
  });
  test('every assertion the service can make satisfies crd-ci-q1…q9 (property)', () => {
    const assertion = fc.record({
      covered: fc.constantFrom('covered', 'not-covered', 'conditional', 'indeterminate'),
      paNeeded: fc.option(fc.constantFrom('auth-needed', 'satisfied'), { nil: undefined }),
      doc: fc.boolean(),
      reason: fc.option(fc.constantFrom('technical', 'no-member-found', 'no-active-coverage', 'coverage-not-found'), { nil: undefined }),
    });
    fc.assert(
      fc.property(assertion, (a) => {
        // The shapes the hook builds: conditional always with info-needed OTH and a reason, indeterminate with a reason.
        const needsReason = a.covered !== 'covered' || a.doc || a.paNeeded === 'auth-needed';
        const built: CoverageAssertion = {
          coverage: { display: 'x' },
          covered: a.covered as CoverageAssertion['covered'],
          ...(a.paNeeded ? { paNeeded: a.paNeeded as 'auth-needed' | 'satisfied' } : {}),
          ...(a.doc || a.covered === 'conditional' ? { docNeeded: 'clinical' as const, docPurpose: 'withpa' as const, infoNeeded: 'OTH' as const, questionnaire: 'http://q|1' } : {}),
          ...(needsReason || a.reason ? { reason: { ...(a.reason ? { code: a.reason as 'technical' } : {}), text: 'why' } } : {}),
          date: '2026-11-23',
        };
        const problems = coverageInformationProblems(coverageInformationExtension(built, newAssertionId()) as never);
        // q4: withpa with satisfied is the one combination the hook never builds.
        return built.paNeeded === 'satisfied' && built.docPurpose === 'withpa' ? true : problems.length === 0;
      }),
    );
  });
});

describe('the request’s Da Vinci CRD configuration (deviations.md)', () => {
  const options = loadConfigurationOptions();
  test('absent, every option keeps its default and nothing is reported', () => {
    const c = readConfiguration(options, undefined);
    expect(isOn(c, 'coverage-info')).toBe(true);
    expect(c.problems).toEqual([]);
  });
  test('unknown options are ignored without a word (dev-17)', () => {
    const c = readConfiguration(options, { 'davinci-crd.configuration': { 'alt-drug': true, cost: false } });
    expect(c.problems).toEqual([]);
  });
  test('a card type set false is off', () => {
    expect(isOn(readConfiguration(options, { 'davinci-crd.configuration': { 'off-guideline': false } }), 'off-guideline')).toBe(false);
  });
  test('a value of the wrong type is not applied, keeps the default, and is reported by its code', () => {
    const c = readConfiguration(options, { 'davinci-crd.configuration': { 'coverage-info': 'no' } });
    expect(isOn(c, 'coverage-info')).toBe(true);
    expect(c.problems.map((p) => p.option)).toEqual(['coverage-info']);
  });
  test('an unsolicited determination asked for while coverage information is off is reported as a nonsensical combination', () => {
    const c = readConfiguration(options, { 'davinci-crd.configuration': { 'coverage-info': false, 'unsolicited-determ': true } });
    expect(isOn(c, 'coverage-info')).toBe(false);
    expect(c.problems.map((p) => p.option)).toEqual(['unsolicited-determ']);
  });
  test('a configuration that is not an object is reported, never refused', () => {
    expect(readConfiguration(options, { 'davinci-crd.configuration': ['coverage-info'] }).problems).toHaveLength(1);
  });
  test('every option has the four mandatory elements and a default, with unique codes, names and descriptions (dev-4, dev-8)', () => {
    for (const o of options.options) {
      expect(Object.keys(o).sort()).toEqual(['code', 'default', 'description', 'name', 'type']);
    }
    for (const f of ['code', 'name', 'description'] as const) {
      expect(new Set(options.options.map((o) => o[f])).size).toBe(options.options.length);
    }
  });
});
