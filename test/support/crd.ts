/** Reading Da Vinci CRD coverage-information out of a hook response, as a CRD client would. */
const COVERAGE_INFORMATION = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

type Json = Record<string, any>;

/** The update actions of a response, by the id of the resource they update. */
export function updatesOf(body: Json): Map<string, Json> {
  return new Map(((body.systemActions as Json[] | undefined) ?? []).map((a) => [String(a.resource?.id), a]));
}

/** The coverage-information extensions on a resource. */
export function coverageInformationOn(resource: Json | undefined): Json[] {
  return ((resource?.extension as Json[] | undefined) ?? []).filter((e) => e.url === COVERAGE_INFORMATION);
}

/** covered, pa-needed, the reason codes and the coverage referenced, of one coverage-information extension. */
export function readAssertion(ext: Json | undefined): { covered?: string; paNeeded?: string; reasons: string[]; coverage?: string; coverageDisplay?: string; assertionId?: string } {
  const parts = (ext?.extension as Json[] | undefined) ?? [];
  const one = (url: string): Json | undefined => parts.find((p) => p.url === url);
  return {
    covered: one('covered')?.valueCode,
    paNeeded: one('pa-needed')?.valueCode,
    reasons: parts.filter((p) => p.url === 'reason').flatMap((p) => ((p.valueCodeableConcept?.coding as Json[] | undefined) ?? []).map((c) => String(c.code))),
    coverage: one('coverage')?.valueReference?.reference,
    coverageDisplay: one('coverage')?.valueReference?.display,
    assertionId: one('coverage-assertion-id')?.valueString,
  };
}

/** This service's assertion on an order in the response's update action, if there is one. */
export function assertionFor(body: Json, orderId: string): ReturnType<typeof readAssertion> | undefined {
  const action = updatesOf(body).get(orderId);
  const mine = coverageInformationOn(action?.resource).find((e) => /^necessity-/.test(String(readAssertion(e).assertionId)));
  return mine ? readAssertion(mine) : undefined;
}
