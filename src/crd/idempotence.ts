import type { Extension, Resource } from 'fhir/r4.js';
import { isThisServices, partsOf, type CoverageAssertion } from './coverage-information.js';

/** The parts of an assertion that make its outcome: not its date, id or per-determination questionnaire. */
function outcomeKey(values: {
  coverage: string;
  covered?: string | undefined;
  paNeeded?: string | undefined;
  docNeeded: readonly string[];
  docPurpose: readonly string[];
  infoNeeded: readonly string[];
  reasonCodes: readonly string[];
  reasonText?: string | undefined;
}): string {
  return JSON.stringify([
    values.coverage,
    values.covered ?? '',
    values.paNeeded ?? '',
    [...values.docNeeded].sort(),
    [...values.docPurpose].sort(),
    [...values.infoNeeded].sort(),
    [...values.reasonCodes].sort(),
    values.reasonText ?? '',
  ]);
}

/** "Coverage/x" of a Reference (an absolute URL is cut to its last two segments), else its display. */
function coverageKey(ref: { reference?: string | undefined; display?: string | undefined } | undefined): string {
  const reference = ref?.reference?.trim();
  if (reference) {
    const m = /(Coverage\/[^/]+)(?:\/_history\/[^/]*)?$/.exec(reference);
    return m?.[1] ?? reference;
  }
  return `display:${ref?.display?.trim() ?? ''}`;
}

function keyOfExtension(ext: Extension): string {
  const codes = (url: string): string[] => partsOf(ext, url).flatMap((p) => (typeof p.valueCode === 'string' ? [p.valueCode] : []));
  const reasons = partsOf(ext, 'reason').map((p) => p.valueCodeableConcept);
  return outcomeKey({
    coverage: coverageKey(partsOf(ext, 'coverage')[0]?.valueReference),
    covered: codes('covered')[0],
    paNeeded: codes('pa-needed')[0],
    docNeeded: codes('doc-needed'),
    docPurpose: codes('doc-purpose'),
    infoNeeded: codes('info-needed'),
    reasonCodes: reasons.flatMap((r) => (r?.coding ?? []).flatMap((c) => (typeof c.code === 'string' ? [c.code] : []))),
    reasonText: reasons[0]?.text,
  });
}

function keyOfAssertion(a: CoverageAssertion): string {
  return outcomeKey({
    coverage: coverageKey(a.coverage),
    covered: a.covered,
    paNeeded: a.covered !== 'not-covered' ? a.paNeeded : undefined,
    docNeeded: a.docNeeded ? [a.docNeeded] : [],
    docPurpose: a.docNeeded && a.docPurpose ? [a.docPurpose] : [],
    infoNeeded: a.infoNeeded ? [a.infoNeeded] : [],
    reasonCodes: a.reason?.code ? [a.reason.code] : [],
    reasonText: a.reason?.text,
  });
}

/**
 * Whether the order already carries this service's coverage-information for the same coverage with the same
 * outcome (CRD resp-29, resp-35: then no system action is sent, since nothing is new). "The same outcome" is the
 * same coverage, covered, pa-needed, doc-needed, doc-purpose, info-needed and reason (codes and text, which name
 * what is missing or unmet); the date, the assertion id and the per-determination questionnaire link do not count,
 * since they change with every call while saying nothing new. Only this service's extensions are compared
 * (recognised by their assertion-id prefix): another payer's assertion about the same coverage is not ours to
 * confirm or replace.
 * @param resource - the order as the client sent or holds it
 * @param assertion - what this service asserts now
 * @param options - questionnaireServed: whether a questionnaire canonical on the earlier assertion is still served
 */
export function alreadyAsserted(
  resource: Resource,
  assertion: CoverageAssertion,
  options: { readonly questionnaireServed?: (canonical: string) => boolean } = {},
): boolean {
  const extensions = (resource as { extension?: unknown }).extension;
  if (!Array.isArray(extensions)) {
    return false;
  }
  const wanted = keyOfAssertion(assertion);
  // A questionnaire link the service no longer serves (per-determination questionnaires are kept a day) is worth
  // replacing: the documentation it asks for is still needed, and DTR must be able to fetch the form.
  const linksServed = (e: Extension): boolean =>
    options.questionnaireServed === undefined ||
    partsOf(e, 'questionnaire').every((q) => typeof q.valueCanonical !== 'string' || options.questionnaireServed?.(q.valueCanonical) === true);
  return (extensions as Extension[]).some((e) => typeof e === 'object' && e !== null && isThisServices(e) && keyOfExtension(e) === wanted && linksServed(e));
}

/**
 * The questionnaire canonicals this service's earlier coverage-information on a resource links to, so that
 * whether each is still served can be asked once per call, before the orders are decided.
 * @param resource - the order as the client sent it
 */
export function linkedQuestionnaires(resource: Resource): string[] {
  const extensions = (resource as { extension?: unknown }).extension;
  if (!Array.isArray(extensions)) {
    return [];
  }
  return (extensions as Extension[])
    .filter((e) => typeof e === 'object' && e !== null && isThisServices(e))
    .flatMap((e) => partsOf(e, 'questionnaire').flatMap((q) => (typeof q.valueCanonical === 'string' ? [q.valueCanonical] : [])));
}
