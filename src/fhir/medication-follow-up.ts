import type { FollowUp } from './data-source.js';
import { relatedResource, typedId } from './patient-record.js';

/**
 * The Medications prescriptions refer to and the record does not hold yet (SPEC §4.1: a MedicationRequest's
 * `medicationReference` to a Medication the service reads). A contained one ("#med") needs no read; one that
 * came by `_include` (in prefetch or in the service's own search) is already related; every other reference to a
 * Medication is read after the searches, under the same token and deadline.
 */
export const medicationReads: FollowUp = function* (record) {
  for (const m of record.sources.MedicationRequest.resources) {
    const reference = m.medicationReference?.reference;
    if (typeof reference !== 'string' || reference.startsWith('#') || m.medicationCodeableConcept !== undefined) {
      continue;
    }
    if (typedId(reference)?.startsWith('Medication/') && relatedResource(record, reference) === undefined) {
      yield reference;
    }
  }
};
