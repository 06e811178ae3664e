import type { Coverage, Organization, Resource, ServiceRequest } from 'fhir/r4.js';
import { chooseCoverage, payerOrganizations, type CoverageEvidence } from '../../src/crd/coverage-choice.js';
import { loadPlans } from '../../src/crd/plans.js';
import { emptySources, type SourceFailure } from '../../src/fhir/patient-record.js';
import { NOW, PLAN_ID, PLAN_NAME, order, planCoverage } from '../support/clinical.js';

const plans = loadPlans();
const mri = order();

function evidence(coverages: Coverage[], more: { failure?: SourceFailure; related?: Resource[]; relatedFailures?: [string, SourceFailure][] } = {}): CoverageEvidence {
  return {
    patientId: 'pat',
    coverages,
    ...(more.failure !== undefined ? { failure: more.failure } : {}),
    related: new Map((more.related ?? []).map((r) => [`${r.resourceType}/${r.id ?? ''}`, r])),
    relatedFailures: new Map(more.relatedFailures ?? []),
  };
}

const commercial = (id = 'ppo', extra: Partial<Coverage> = {}): Coverage =>
  planCoverage('pat', { id, payor: [{ identifier: { system: PLAN_ID.system, value: 'ACME-PPO' }, display: 'Acme Commercial PPO' }], ...extra });
const payer = (id: string, extra: Partial<Organization>): Organization => ({ resourceType: 'Organization', id, ...extra });

describe('whose coverage an order is reviewed under (SPEC §7.1)', () => {
  test('a member whose active Coverage names the plan by payor display is served, and the plan is named', () => {
    const c = chooseCoverage(evidence([planCoverage()]), plans, mri, NOW);
    expect(c).toMatchObject({ kind: 'served', reference: 'Coverage/pat-coverage', plan: { name: PLAN_NAME } });
  });
  test('the payor display is matched whatever its case and surrounding spaces', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { payor: [{ display: '  example MEDICARE advantage plan ' }] })]), plans, mri, NOW);
    expect(c.kind).toBe('served');
  });
  test('a member named only by the payer identifier is served', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { payor: [{ identifier: PLAN_ID }] })]), plans, mri, NOW);
    expect(c.kind).toBe('served');
  });
  test('a payer named only by an Organization the EHR includes is recognised by its name', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { payor: [{ reference: 'Organization/exma' }] })], { related: [payer('exma', { name: PLAN_NAME })] }), plans, mri, NOW);
    expect(c.kind).toBe('served');
  });
  test('a payer named only by an Organization is recognised by its identifier too', () => {
    const c = chooseCoverage(
      evidence([planCoverage('pat', { payor: [{ reference: 'https://ehr.example/fhir/Organization/exma' }] })], { related: [payer('exma', { identifier: [PLAN_ID] })] }),
      plans,
      mri,
      NOW,
    );
    expect(c.kind).toBe('served');
  });
  test('a commercial-plan member gets no review under this Medicare Advantage policy: no-member-found', () => {
    expect(chooseCoverage(evidence([commercial()]), plans, mri, NOW).kind).toBe('other-payer');
  });
  test('a plan that ended in 2021 is not in force, and the plan Coverage is the one referenced', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { id: 'old', period: { start: '2019-01-01', end: '2021-12-31' } })]), plans, mri, NOW);
    expect(c).toMatchObject({ kind: 'not-in-force', reference: 'Coverage/old' });
  });
  test('a cancelled plan Coverage is not in force, even with no period', () => {
    expect(chooseCoverage(evidence([planCoverage('pat', { status: 'cancelled' })]), plans, mri, NOW).kind).toBe('not-in-force');
  });
  test('a plan whose period ends on the order date (a date) is still in force that day', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { period: { start: '2026-01-01', end: '2026-11-23' } })]), plans, mri, NOW);
    expect(c.kind).toBe('served');
  });
  test('a plan that starts after the order date is not in force for it', () => {
    const c = chooseCoverage(evidence([planCoverage('pat', { period: { start: '2026-12-01' } })]), plans, mri, NOW);
    expect(c.kind).toBe('not-in-force');
  });
  test('no Coverage at all is coverage-not-found', () => {
    expect(chooseCoverage(evidence([]), plans, mri, NOW).kind).toBe('none');
  });
  test("another patient's Coverage is not this patient's", () => {
    const c = chooseCoverage(evidence([planCoverage('someone-else')]), plans, mri, NOW);
    expect(c.kind).toBe('none');
  });
  test('a Coverage search that could not be read is unreadable, even if a plan Coverage came back on the first page', () => {
    expect(chooseCoverage(evidence([planCoverage()], { failure: 'page-limit' }), plans, mri, NOW)).toEqual({ kind: 'unreadable', failure: 'page-limit' });
  });
  test('a payer Organization whose read failed leaves the coverage unreadable', () => {
    const c = chooseCoverage(
      evidence([planCoverage('pat', { payor: [{ reference: 'Organization/exma' }] })], { relatedFailures: [['Organization/exma', 'server-error']] }),
      plans,
      mri,
      NOW,
    );
    expect(c).toEqual({ kind: 'unreadable', failure: 'server-error' });
  });
  test('a payer Organization that does not exist identifies nothing', () => {
    const c = chooseCoverage(
      evidence([planCoverage('pat', { payor: [{ reference: 'Organization/gone' }] })], { relatedFailures: [['Organization/gone', 'not-found']] }),
      plans,
      mri,
      NOW,
    );
    expect(c.kind).toBe('other-payer');
  });
  test('the served Coverage the order names in insurance comes first, whatever its order', () => {
    const first = planCoverage('pat', { id: 'primary', order: 1 });
    const named = planCoverage('pat', { id: 'named', order: 2 });
    const withInsurance: ServiceRequest = { ...mri, insurance: [{ reference: 'Coverage/named' }] };
    expect(chooseCoverage(evidence([first, named]), plans, withInsurance, NOW)).toMatchObject({ reference: 'Coverage/named' });
  });
  test('else the lowest order, else the latest period start; a Coverage without either ranks last', () => {
    const noRank = planCoverage('pat', { id: 'unranked' });
    const older = planCoverage('pat', { id: 'older', period: { start: '2020-01-01' } });
    const newer = planCoverage('pat', { id: 'newer', period: { start: '2024-01-01' } });
    expect(chooseCoverage(evidence([noRank, older, newer]), plans, mri, NOW)).toMatchObject({ reference: 'Coverage/newer' });
    const ordered = planCoverage('pat', { id: 'ordered', order: 3 });
    expect(chooseCoverage(evidence([noRank, newer, ordered]), plans, mri, NOW)).toMatchObject({ reference: 'Coverage/ordered' });
  });
  test('a commercial Coverage beside an in-force plan Coverage does not stop the review', () => {
    expect(chooseCoverage(evidence([commercial(), planCoverage()]), plans, mri, NOW).kind).toBe('served');
  });
});

describe('the payer Organizations read after the searches', () => {
  test('are those the Coverages reference by Organization, contained ones aside', () => {
    const sources = emptySources();
    sources.Coverage = {
      type: 'Coverage',
      resources: [planCoverage('pat', { payor: [{ reference: 'Organization/a' }, { reference: '#contained' }, { display: 'x' }, { reference: 'Patient/pat' }] })],
    };
    const record = { patientId: 'pat', sources, related: new Map(), relatedFailures: new Map(), fhirRequests: 0 };
    expect([...payerOrganizations(record)]).toEqual(['Organization/a']);
  });
});
