import { randomUUID } from 'node:crypto';
import type { Extension, Reference, Resource } from 'fhir/r4.js';

export const COVERAGE_INFORMATION_URL = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
/** Reason codes of SPEC §7 / §7.1 (CRDTempCodes.fsh: technical, no-member-found, no-active-coverage, coverage-not-found). */
export const CRD_TEMP = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';

export type ReasonCode = 'technical' | 'no-member-found' | 'no-active-coverage' | 'coverage-not-found';

const REASON_DISPLAY: Readonly<Record<ReasonCode, string>> = {
  technical: 'Technical issues',
  'no-member-found': 'Member not found',
  'no-active-coverage': 'Coverage not active',
  'coverage-not-found': 'Coverage not found',
};

/**
 * What the payer asserts about one order (CoverageInformation.fsh): the coverage it is about, whether it is covered,
 * and what prior authorization and documentation it needs. Codes are the extension's own.
 */
export interface CoverageAssertion {
  /** `{ reference }` to the Coverage, or `{ display }` when no Coverage could be referenced (SPEC §7, §7.1). */
  readonly coverage: Reference;
  readonly covered: 'covered' | 'not-covered' | 'conditional' | 'indeterminate';
  readonly paNeeded?: 'auth-needed' | 'satisfied';
  readonly docNeeded?: 'clinical';
  readonly docPurpose?: 'withpa';
  readonly infoNeeded?: 'OTH';
  /** A Questionnaire canonical; only with docNeeded (crd-ci-q1). */
  readonly questionnaire?: string;
  readonly reason?: { readonly code?: ReasonCode; readonly text: string };
  /** YYYY-MM-DD of the assertion. */
  readonly date: string;
}

/**
 * Marks the coverage-information this service writes: every `coverage-assertion-id` (and so `satisfied-pa-id`) it
 * issues starts with it. That is how a re-signed order's extension is recognised as this service's (resp-35,
 * resp-37): the assertion id is the one element CRD clients must keep unchanged and send back (resp-46), and a
 * short prefix keeps the id within the 50 characters of the X12 REF segment a satisfied-pa-id travels in.
 */
export const ASSERTION_ID_PREFIX = 'necessity-';

/** A new assertion id: unique per determination (SPEC §7), recognisably this service's. */
export function newAssertionId(): string {
  return `${ASSERTION_ID_PREFIX}${randomUUID()}`;
}

function part(url: string, value: Omit<Extension, 'url'>): Extension {
  return { url, ...value };
}

/** Sub-extension values by url. */
export function partsOf(ext: Extension, url: string): Extension[] {
  return (Array.isArray(ext.extension) ? ext.extension : []).filter((e) => e.url === url);
}

/** Whether a coverage-information extension was written by this service (its assertion id carries the prefix). */
export function isThisServices(ext: Extension): boolean {
  if (ext.url !== COVERAGE_INFORMATION_URL) {
    return false;
  }
  const id = partsOf(ext, 'coverage-assertion-id')[0]?.valueString;
  return typeof id === 'string' && id.startsWith(ASSERTION_ID_PREFIX);
}

/**
 * The coverage-information extension for an assertion. Element order follows the profile; crd-ci-q1…q9 hold by
 * construction: questionnaire only with doc-needed, no pa-needed when not-covered, info-needed with conditional,
 * satisfied-pa-id exactly when pa-needed is satisfied, a reason with every indeterminate, OTH and doc-purpose.
 * @param a - the assertion
 * @param assertionId - from newAssertionId()
 */
export function coverageInformationExtension(a: CoverageAssertion, assertionId: string): Extension {
  const parts: Extension[] = [part('coverage', { valueReference: { ...a.coverage } }), part('covered', { valueCode: a.covered })];
  if (a.paNeeded !== undefined && a.covered !== 'not-covered') {
    parts.push(part('pa-needed', { valueCode: a.paNeeded }));
  }
  if (a.docNeeded !== undefined) {
    parts.push(part('doc-needed', { valueCode: a.docNeeded }));
    if (a.docPurpose !== undefined) {
      parts.push(part('doc-purpose', { valueCode: a.docPurpose }));
    }
  }
  if (a.infoNeeded !== undefined) {
    parts.push(part('info-needed', { valueCode: a.infoNeeded }));
  }
  if (a.reason !== undefined) {
    const coding = a.reason.code !== undefined ? [{ system: CRD_TEMP, code: a.reason.code, display: REASON_DISPLAY[a.reason.code] }] : undefined;
    parts.push(part('reason', { valueCodeableConcept: { ...(coding ? { coding } : {}), text: a.reason.text } }));
  }
  if (a.questionnaire !== undefined && a.docNeeded !== undefined) {
    parts.push(part('questionnaire', { valueCanonical: a.questionnaire }));
  }
  parts.push(part('date', { valueDate: a.date }), part('coverage-assertion-id', { valueString: assertionId }));
  if (a.paNeeded === 'satisfied' && a.covered !== 'not-covered') {
    parts.push(part('satisfied-pa-id', { valueString: assertionId }));
  }
  return { url: COVERAGE_INFORMATION_URL, extension: parts };
}

/** Removes null, empty strings, empty arrays and empty objects: CDS Hooks JSON carries no empty values. */
export function pruneEmpty<T>(value: T): T | undefined {
  if (value === null || value === '') {
    return undefined;
  }
  // Loops rather than entries/fromEntries: this copies the draft order of every response.
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const v of value as unknown[]) {
      const pruned = pruneEmpty(v);
      if (pruned !== undefined) {
        items.push(pruned);
      }
    }
    return (items.length > 0 ? items : undefined) as T | undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const key of Object.keys(value as Record<string, unknown>)) {
      const pruned = pruneEmpty((value as Record<string, unknown>)[key]);
      if (pruned !== undefined) {
        if (key === '__proto__') {
          // A "__proto__" key parsed from JSON stays a plain data property, as it was, never a prototype.
          Object.defineProperty(out, key, { value: pruned, enumerable: true, writable: true, configurable: true });
        } else {
          out[key] = pruned;
        }
        any = true;
      }
    }
    return (any ? out : undefined) as T | undefined;
  }
  return value;
}

/**
 * The resource as the system action sends it back (CRD resp-37): unchanged but for this service's
 * coverage-information, which replaces any this service wrote before; every other extension — another payer's
 * coverage-information included — is kept in place. Returns a copy: the request's resource is never changed.
 * @param resource - the order (a ServiceRequest; an appointment's order, per cards.md FHIR-50318)
 * @param ext - the new coverage-information extension
 */
export function withCoverageInformation<T extends Resource>(resource: T, ext: Extension): T {
  // pruneEmpty builds new arrays and objects all the way down.
  const copy = (pruneEmpty(resource) ?? { resourceType: resource.resourceType }) as T & { extension?: Extension[] };
  const kept = (copy.extension ?? []).filter((e) => !isThisServices(e));
  return { ...copy, extension: [...kept, ext] };
}
