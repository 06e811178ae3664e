import type { Coverage, Identifier, Organization, Reference, Resource, ServiceRequest } from 'fhir/r4.js';
import { parseFhirDate, truncate } from '../facts/fhir-dates.js';
import { referenceOf, statusOf } from '../facts/record-index.js';
import { refersToPatient, type FollowUp } from '../fhir/data-source.js';
import type { PatientRecord, SourceFailure } from '../fhir/patient-record.js';
import type { Plan } from './plans.js';

/**
 * Whose coverage an order is reviewed under (SPEC §7.1, CRD cards.md resp-43…resp-45): one of five situations.
 * - `served`: a Coverage of a configured plan, in force now: the policy is applied.
 * - `unreadable`: the Coverage source (or a payer Organization it depends on) could not be read: the policy is
 *   applied for the card, but coverage is indeterminate (technical), so no approval can come of it.
 * - `not-in-force`: a configured plan's Coverage exists but none is active now (no-active-coverage).
 * - `other-payer`: Coverages were read, none of a configured plan (no-member-found).
 * - `none`: no Coverage at all (coverage-not-found).
 */
export type CoverageSituation =
  | { readonly kind: 'served'; readonly plan: Plan; readonly coverage: Coverage; readonly reference: string }
  | { readonly kind: 'unreadable'; readonly failure: SourceFailure }
  | { readonly kind: 'not-in-force'; readonly plan: Plan; readonly coverage: Coverage; readonly reference: string }
  | { readonly kind: 'other-payer' }
  | { readonly kind: 'none' };

/** What the choice reads of the gathered record: the Coverage source and the payer Organizations read beside it. */
export interface CoverageEvidence {
  readonly patientId: string;
  readonly coverages: readonly Coverage[];
  /** Set when the Coverage search (or its prefetch entry) could not be read whole. */
  readonly failure?: SourceFailure;
  /** `_include`d or read Organizations (and anything else), by "Type/id" or by the URL they were read from. */
  readonly related: ReadonlyMap<string, Resource>;
  readonly relatedFailures: ReadonlyMap<string, SourceFailure>;
}

/** The coverage evidence of a gathered record. */
export function coverageEvidence(record: PatientRecord): CoverageEvidence {
  const source = record.sources.Coverage;
  return {
    patientId: record.patientId,
    coverages: source.resources,
    ...(source.failure !== undefined ? { failure: source.failure } : {}),
    related: record.related,
    relatedFailures: record.relatedFailures,
  };
}

/** "Organization/x" for a payor reference that names an Organization (relative, or an absolute URL ending so). */
function organizationReference(reference: string | undefined): string | undefined {
  if (typeof reference !== 'string') {
    return undefined;
  }
  const m = /(?:^|\/)(Organization\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/.exec(reference.trim());
  return m?.[1];
}

/**
 * The follow-up read of SPEC §7.1: the payer Organizations the patient's Coverages reference that the searches did
 * not bring along (`_include=Coverage:payor` usually does). The data source skips those already in the record.
 */
export const payerOrganizations: FollowUp = (record) => {
  const wanted: string[] = [];
  for (const c of record.sources.Coverage.resources) {
    for (const p of Array.isArray(c.payor) ? c.payor : []) {
      const ref = typeof p.reference === 'string' ? p.reference.trim() : undefined;
      if (ref !== undefined && !ref.startsWith('#') && organizationReference(ref) !== undefined) {
        wanted.push(ref);
      }
    }
  }
  return wanted;
};

const normalName = (name: unknown): string | undefined => (typeof name === 'string' && name.trim() !== '' ? name.trim().toLowerCase() : undefined);

function identifierMatches(identifier: Identifier | undefined, plan: Plan): boolean {
  return identifier !== undefined && plan.payerIdentifiers.some((i) => i.system === identifier.system && i.value === identifier.value?.trim());
}

function nameMatches(name: unknown, plan: Plan): boolean {
  const n = normalName(name);
  return n !== undefined && plan.payerNames.some((p) => p.toLowerCase() === n);
}

/** Which plan a payor entry names: a plan, nothing, or "could not tell" (its Organization could not be read). */
type PayorReading = { readonly plan: Plan } | 'none' | { readonly unknown: SourceFailure };

function readPayor(payor: Reference, coverage: Coverage, plans: readonly Plan[], evidence: CoverageEvidence): PayorReading {
  const byEntry = plans.find((plan) => identifierMatches(payor.identifier, plan) || nameMatches(payor.display, plan));
  if (byEntry) {
    return { plan: byEntry };
  }
  const ref = typeof payor.reference === 'string' ? payor.reference.trim() : undefined;
  if (ref === undefined) {
    return 'none';
  }
  let org: Resource | undefined;
  if (ref.startsWith('#')) {
    org = (coverage.contained ?? []).find((r) => r.resourceType === 'Organization' && `#${r.id ?? ''}` === ref);
  } else {
    const key = organizationReference(ref);
    org = evidence.related.get(ref) ?? (key !== undefined ? evidence.related.get(key) : undefined);
    if (org === undefined && key !== undefined) {
      const failure = evidence.relatedFailures.get(ref) ?? evidence.relatedFailures.get(key);
      // SPEC §7.1: an Organization that does not exist identifies nothing; one whose read failed otherwise leaves the
      // payer unknown, and so the Coverage source unreadable.
      return failure === undefined || failure === 'not-found' ? 'none' : { unknown: failure };
    }
  }
  if (org?.resourceType !== 'Organization') {
    return 'none';
  }
  const o = org as Organization;
  const plan = plans.find((p) => (o.identifier ?? []).some((i) => identifierMatches(i, p)) || nameMatches(o.name, p));
  return plan ? { plan } : 'none';
}

/** Whether a Coverage is in force at `now`: status active and a period (when present) containing now, by day for dates. */
export function inForce(coverage: Coverage, now: number): boolean {
  if (statusOf(coverage) !== 'active') {
    return false;
  }
  const start = parseFhirDate(coverage.period?.start);
  const end = parseFhirDate(coverage.period?.end);
  if (start && truncate(now, start.precision) < start.start) {
    return false;
  }
  return !end || truncate(now, end.precision) <= end.start;
}

/**
 * SPEC §7.1 order of preference among candidate Coverages: the one the order names in `insurance`, else the lowest
 * `order`, else the latest `period.start`, else the first (a Coverage without `order` or a readable `period.start`
 * ranks after those with one).
 */
function preferred<T extends { readonly coverage: Coverage }>(candidates: readonly T[], order: ServiceRequest): T | undefined {
  const named = new Set((order.insurance ?? []).flatMap((i) => (typeof i.reference === 'string' ? [i.reference.trim()] : [])));
  const isNamed = (c: Coverage): boolean => [...named].some((n) => n === referenceOf(c) || n.endsWith(`/${referenceOf(c)}`));
  const byInsurance = candidates.find((c) => isNamed(c.coverage));
  if (byInsurance) {
    return byInsurance;
  }
  const rank = (c: Coverage): [number, number] => [
    typeof c.order === 'number' && Number.isFinite(c.order) ? c.order : Number.POSITIVE_INFINITY,
    -(parseFhirDate(c.period?.start)?.start ?? Number.NEGATIVE_INFINITY),
  ];
  let best: T | undefined;
  for (const c of candidates) {
    if (!best) {
      best = c;
      continue;
    }
    const [o1, s1] = rank(c.coverage);
    const [o2, s2] = rank(best.coverage);
    if (o1 < o2 || (o1 === o2 && s1 < s2)) {
      best = c;
    }
  }
  return best;
}

/**
 * Decides whose coverage an order is reviewed under (SPEC §7.1). Pure: the record is already gathered.
 * @param evidence - the Coverage source and the payer Organizations read with it
 * @param plans - the configured plans
 * @param order - the order (its `insurance` is preferred)
 * @param now - SPEC §1 "now" for the order (its authoredOn, else the time the request was received)
 */
export function chooseCoverage(evidence: CoverageEvidence, plans: readonly Plan[], order: ServiceRequest, now: number): CoverageSituation {
  const mine = evidence.coverages.filter((c) => refersToPatient(c.beneficiary?.reference, evidence.patientId));
  const ofPlan: { coverage: Coverage; plan: Plan }[] = [];
  let unknownPayer: SourceFailure | undefined;
  for (const coverage of mine) {
    const readings = (Array.isArray(coverage.payor) ? coverage.payor : []).map((p) => readPayor(p, coverage, plans, evidence));
    const found = readings.find((r): r is { plan: Plan } => typeof r === 'object' && 'plan' in r);
    if (found) {
      ofPlan.push({ coverage, plan: found.plan });
    } else {
      unknownPayer ??= readings.find((r): r is { unknown: SourceFailure } => typeof r === 'object' && 'unknown' in r)?.unknown;
    }
  }
  if (evidence.failure !== undefined) {
    // The search was not read whole: the Coverage that counts may be the one missing (SPEC §7.1 second row).
    return { kind: 'unreadable', failure: evidence.failure };
  }
  const served = preferred(
    ofPlan.filter((c) => inForce(c.coverage, now)),
    order,
  );
  if (served) {
    return { kind: 'served', plan: served.plan, coverage: served.coverage, reference: referenceOf(served.coverage) };
  }
  if (unknownPayer !== undefined) {
    return { kind: 'unreadable', failure: unknownPayer };
  }
  const lapsed = preferred(ofPlan, order);
  if (lapsed) {
    return { kind: 'not-in-force', plan: lapsed.plan, coverage: lapsed.coverage, reference: referenceOf(lapsed.coverage) };
  }
  return mine.length > 0 ? { kind: 'other-payer' } : { kind: 'none' };
}
