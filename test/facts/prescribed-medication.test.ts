import type { Medication, MedicationRequest } from 'fhir/r4.js';
import { prescribed } from '../../src/facts/record-index.js';
import { medicationReads } from '../../src/fhir/medication-follow-up.js';
import { typedId } from '../../src/fhir/patient-record.js';
import { RXNORM, condition, daysAgo, fact, lumbarStudy, medication, patient } from '../support/clinical.js';
import { recordOf } from '../support/record.js';

const backPain = condition('M54.50', { onset: daysAgo(90) });
const ibuprofen: Medication = { resourceType: 'Medication', id: 'ibu', code: { coding: [{ system: RXNORM, code: '5640', display: 'ibuprofen' }] } };

/** Five weeks of a prescription that names its medication by reference. */
function byReference(reference: string, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  const { medicationCodeableConcept: _concept, ...m } = medication('5640', 'ibuprofen', daysAgo(35));
  return { ...m, medicationReference: { reference }, ...extra };
}

describe('following a prescription to its Medication (SPEC §4.1)', () => {
  test('"#ibu" is the contained Medication', () => {
    const m = byReference('#ibu', { contained: [ibuprofen] });
    expect(fact('fact.conservative-care-4wk', { resources: [backPain, m] }).value).toBe('true');
  });
  test('a contained id that is not there names nothing, and makes nothing unreadable', () => {
    const m = byReference('#other', { contained: [ibuprofen] });
    const f = fact('fact.conservative-care-4wk', { resources: [backPain, m] });
    expect(f.detail).toBe('none in the last 180 days');
    expect(f.unreadable).toEqual([]);
  });
  test('an absolute URL to the Medication finds the one read or included as "Medication/ibu"', () => {
    const m = byReference('https://ehr.example.org/fhir/Medication/ibu/_history/3');
    expect(fact('fact.conservative-care-4wk', { resources: [backPain, m, ibuprofen] }).value).toBe('true');
  });
  test('a reference to something that is not a Medication names nothing', () => {
    const record = recordOf(patient(), [{ resourceType: 'Substance', id: 'ibu' } as never]);
    expect(prescribed(byReference('Substance/ibu'), record)).toEqual({ kind: 'nothing' });
  });
  test('a Medication that was never read (prefetch without it, and no FHIR server) is unreadable as not provided', () => {
    expect(prescribed(byReference('Medication/ibu'), recordOf(patient(), []))).toEqual({ kind: 'unreadable', failure: 'not-provided' });
  });
  test('a Medication whose read timed out is unreadable as a timeout; one the server does not have names nothing', () => {
    const record = { ...recordOf(patient(), []), relatedFailures: new Map([['Medication/ibu', 'timeout' as const], ['Medication/gone', 'not-found' as const]]) };
    expect(prescribed(byReference('Medication/ibu'), record)).toEqual({ kind: 'unreadable', failure: 'timeout' });
    expect(prescribed(byReference('Medication/gone'), record)).toEqual({ kind: 'nothing' });
  });
  test('a prescription with a medicationCodeableConcept keeps it whatever its reference says', () => {
    const m = { ...medication('5640', 'ibuprofen', daysAgo(35)), medicationReference: { reference: 'Medication/unknown' } };
    expect(prescribed(m, recordOf(patient(), []))).toMatchObject({ kind: 'medication' });
  });
});

describe('a prescription whose Medication could not be read makes the prescriptions partly read', () => {
  test('treatment after a lumbar MRI 40 days ago is then unknown, not false', () => {
    const f = fact('fact.treatment-since-imaging', { resources: [lumbarStudy(daysAgo(40)), byReference('Medication/ibu')] });
    expect(f.value).toBe('unknown');
    expect(f.unreadable).toEqual(['MedicationRequest']);
  });
  test('with the Medication there, the same prescription is treatment since the MRI', () => {
    expect(fact('fact.treatment-since-imaging', { resources: [lumbarStudy(daysAgo(40)), byReference('Medication/ibu'), ibuprofen] }).value).toBe('true');
  });
});

describe('the follow-up read of Medications', () => {
  test('asks only for Medications the record does not hold, never a contained one, never one already included', () => {
    const prescriptions = [
      byReference('#ibu', { contained: [ibuprofen] }),
      byReference('Medication/ibu'),
      byReference('https://ehr.example.org/fhir/Medication/ibu'),
      byReference('Medication/other'),
      byReference('Substance/x'),
      medication('5640', 'ibuprofen', daysAgo(3)),
    ];
    expect([...medicationReads(recordOf(patient(), [...prescriptions, ibuprofen]))]).toEqual(['Medication/other']);
    expect([...medicationReads(recordOf(patient(), prescriptions))]).toEqual(['Medication/ibu', 'https://ehr.example.org/fhir/Medication/ibu', 'Medication/other']);
  });
  test('"Type/id" is read from relative, absolute and versioned references, and from nothing else', () => {
    expect(typedId('Medication/1')).toBe('Medication/1');
    expect(typedId('https://h/fhir/Medication/1/_history/2')).toBe('Medication/1');
    expect(typedId('#1')).toBeUndefined();
    expect(typedId('urn:uuid:5f0c')).toBeUndefined();
  });
});
