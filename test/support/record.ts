import type { Patient, Resource } from 'fhir/r4.js';
import { emptySources, SOURCE_TYPES, type PatientRecord, type SourceFailure, type SourceType } from '../../src/fhir/patient-record.js';

/**
 * A patient record built straight from resources, as if every source had been read; `unreadable` marks
 * sources as failed, the way a failing FHIR server would. Resources of types the service does not search
 * (Organization, Medication, Binary) are held as related resources, as if included or read by reference.
 */
export function recordOf(patient: Patient, resources: readonly Resource[], unreadable: Partial<Record<SourceType, SourceFailure>> = {}): PatientRecord {
  const sources = emptySources() as unknown as Record<SourceType, { type: SourceType; resources: Resource[]; failure?: SourceFailure }>;
  sources.Patient.resources.push(patient);
  const related = new Map<string, Resource>();
  for (const r of resources) {
    const type = SOURCE_TYPES.find((t) => t === r.resourceType);
    if (type) {
      sources[type].resources.push(r);
    } else {
      related.set(`${r.resourceType}/${r.id ?? ''}`, r);
    }
  }
  for (const [type, failure] of Object.entries(unreadable)) {
    sources[type as SourceType].failure = failure;
  }
  return { patientId: patient.id ?? 'unknown', sources: sources as unknown as PatientRecord['sources'], related, relatedFailures: new Map(), fhirRequests: 0 };
}
