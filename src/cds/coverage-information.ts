import { randomUUID } from 'node:crypto';
import type { Coverage, Extension, Questionnaire, ServiceRequest } from 'fhir/r4.js';
import { DAY_MS, isoDay, parseFhirDate } from '../facts/fhir-dates.js';
import { referenceOf, statusOf } from '../facts/record-index.js';
import type { PatientRecord } from '../fhir/patient-record.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { fill, type CardTemplates } from './card-templates.js';
import type { Action } from './cds-types.js';
import type { Determination } from './determine.js';
import { canonical } from './questionnaire.js';

export const COVERAGE_INFORMATION_URL = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
const CRD_TEMP = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';

/** The patient's coverage as the system action needs it. */
export type CoverageChoice =
  | { readonly state: 'active'; readonly reference: string }
  | { readonly state: 'none' }
  | { readonly state: 'unreadable' };

/**
 * Picks the patient's active Coverage (SPEC §7): status active, and in force now when it has a period.
 * @param record - the gathered record
 * @param now - epoch ms
 */
export function chooseCoverage(record: PatientRecord, now: number): CoverageChoice {
  const source = record.sources.Coverage;
  const inForce = (c: Coverage): boolean => {
    const start = parseFhirDate(c.period?.start);
    const end = parseFhirDate(c.period?.end);
    return (!start || start.start <= now) && (!end || end.start >= now - DAY_MS);
  };
  const active = source.resources.filter((c) => statusOf(c) === 'active');
  const chosen = active.find(inForce) ?? active[0];
  if (chosen) {
    return { state: 'active', reference: referenceOf(chosen) };
  }
  return source.failure !== undefined ? { state: 'unreadable' } : { state: 'none' };
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

function sub(url: string, value: Omit<Extension, 'url'>): Extension {
  return { url, ...value };
}

/**
 * The Da Vinci CRD coverage-information system action for one determination (SPEC §7): the order,
 * unchanged but for the extension, with covered / pa-needed / doc-needed per the decision. None when the
 * patient has no active Coverage.
 * @param det - the determination
 * @param coverage - the patient's coverage
 * @param receivedAt - epoch ms of the request (the assertion date)
 */
export function coverageInformationAction(
  det: Determination,
  coverage: CoverageChoice,
  receivedAt: number,
  loaded: LoadedPolicy,
  templates: CardTemplates,
  labelOf: (factOrCriterion: string) => string,
  questionnaire?: Questionnaire,
): Action | undefined {
  if (coverage.state === 'none') {
    return undefined;
  }
  const t = templates.coverageInformation;
  const assertionId = randomUUID();
  const { decision } = det.outcome;
  const parts: Extension[] = [
    sub('coverage', { valueReference: coverage.state === 'active' ? { reference: coverage.reference } : { display: t.coverageDisplay } }),
  ];
  // SPEC §7: nothing could be read and nothing decided → indeterminate, with a technical reason (crd-ci-q9).
  if (det.noSourceReadable && decision === 'documentation-needed') {
    parts.push(
      sub('covered', { valueCode: 'indeterminate' }),
      sub('reason', { valueCodeableConcept: { coding: [{ system: CRD_TEMP, code: 'technical', display: 'Technical issue' }], text: t.noneReadable } }),
    );
  } else if (decision === 'meets-criteria') {
    parts.push(sub('covered', { valueCode: 'covered' }), sub('pa-needed', { valueCode: 'satisfied' }));
  } else if (decision === 'documentation-needed') {
    const items = det.outcome.missing.map(labelOf).join('; ');
    parts.push(
      sub('covered', { valueCode: 'conditional' }),
      sub('pa-needed', { valueCode: 'auth-needed' }),
      sub('doc-needed', { valueCode: 'clinical' }),
      sub('doc-purpose', { valueCode: 'withpa' }),
      sub('info-needed', { valueCode: 'OTH' }),
      // crd-ci-q1: a questionnaire only with doc-needed, which is set just above.
      ...(questionnaire ? [sub('questionnaire', { valueCanonical: canonical(questionnaire) })] : []),
      sub('reason', { valueCodeableConcept: { text: fill(t.missingReason, { items: items || 'see the card' }) } }),
    );
  } else {
    const non = det.outcome.satisfiedCriteria.filter((id) => id.startsWith('non.'));
    const items = (non.length > 0 ? non : ['ind']).map(labelOf).join('; ');
    parts.push(sub('covered', { valueCode: 'not-covered' }), sub('reason', { valueCodeableConcept: { text: fill(t.notCoveredReason, { items }) } }));
  }
  parts.push(sub('date', { valueDate: isoDay(receivedAt) }), sub('coverage-assertion-id', { valueString: assertionId }));
  if (decision === 'meets-criteria') {
    // crd-ci-q5: satisfied-pa-id exactly when pa-needed is satisfied.
    parts.push(sub('satisfied-pa-id', { valueString: assertionId }));
  }
  // pruneEmpty builds new arrays and objects all the way down: the request's order is never shared or changed.
  const order = (pruneEmpty(det.order) ?? { resourceType: 'ServiceRequest' }) as ServiceRequest;
  const others = (order.extension ?? []).filter((e) => e.url !== COVERAGE_INFORMATION_URL);
  const resource: ServiceRequest = { ...order, extension: [...others, { url: COVERAGE_INFORMATION_URL, extension: parts }] };
  return {
    type: 'update',
    description: fill(t.description, { service: loaded.policy.service }),
    resource,
  };
}
