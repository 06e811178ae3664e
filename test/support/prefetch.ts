import type { Patient, Resource } from 'fhir/r4.js';

/** The prefetch an EHR sends for the service's templates (hooks/prefetch.json): each search as one searchset page. */
export function prefetchOf(patient: Patient, resources: readonly Resource[]): Record<string, unknown> {
  const page = (type: string): unknown => {
    const entries = resources.filter((r) => r.resourceType === type);
    return { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries.map((resource) => ({ resource })) };
  };
  return {
    patient,
    coverage: page('Coverage'),
    conditions: page('Condition'),
    observations: page('Observation'),
    imagingStudies: page('ImagingStudy'),
    procedures: page('Procedure'),
    medicationRequests: page('MedicationRequest'),
    serviceRequests: page('ServiceRequest'),
    diagnosticReports: page('DiagnosticReport'),
    questionnaireResponses: page('QuestionnaireResponse'),
    documentReferences: page('DocumentReference'),
  };
}
