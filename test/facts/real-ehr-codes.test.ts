import type { Condition, MedicationRequest, Observation } from 'fhir/r4.js';
import { isInScope } from '../../src/cds/scope.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { condition, daysAgo, fact, lumbarStudy, medication, order, temperature, valueOf } from '../support/clinical.js';

/** Code systems as real EHRs send them: by OID (SPEC §2 Codes), in US Core shapes. */
const OID = {
  cpt: 'urn:oid:2.16.840.1.113883.6.12',
  icd10cm: 'urn:oid:2.16.840.1.113883.6.90',
  snomed: 'urn:oid:2.16.840.1.113883.6.96',
  loinc: 'urn:oid:2.16.840.1.113883.6.1',
  rxnorm: 'urn:oid:2.16.840.1.113883.6.88',
};
const loaded = loadPolicy();
const backPain = condition('M54.50', { onset: daysAgo(90) });

/** A US Core Condition: problem-list category, US Core profile, and the code sent by OID. */
function usCoreCondition(code: string, system: string, onset = daysAgo(60)): Condition {
  return {
    ...condition(code, { onset }, system),
    meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns'] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
  };
}

describe('code systems named by their OID match as their URLs (SPEC §2 Codes)', () => {
  test('a lumbar MRI ordered as CPT 72148 by OID is in scope', () => {
    const o = order('72148', { code: { coding: [{ system: OID.cpt, code: '72148' }] } });
    expect(isInScope(o, loaded.policy, loaded.valueSets)).toBe(true);
  });
  test('a brain MRI ordered by the CPT OID (70551) stays out of scope', () => {
    const o = order('70551', { code: { coding: [{ system: OID.cpt, code: '70551' }] } });
    expect(isInScope(o, loaded.policy, loaded.valueSets)).toBe(false);
  });
  test('a history of prostate cancer Z85.46 coded by the ICD-10-CM OID is a history of cancer', () => {
    expect(valueOf('rf.cancer-history', { resources: [usCoreCondition('Z85.46', OID.icd10cm)] })).toBe('true');
  });
  test('an ICD-10-CM code by OID still matches by prefix: osteomyelitis M46.26 under M46.2', () => {
    expect(valueOf('rf.infection', { resources: [usCoreCondition('M46.26', OID.icd10cm)] })).toBe('true');
  });
  test('an ICD-10-CM code by OID sent without its dot, M4626, is read as M46.26', () => {
    expect(valueOf('rf.infection', { resources: [usCoreCondition('M4626', OID.icd10cm)] })).toBe('true');
  });
  test('a lumbar radiculopathy M5416 by OID, dotless, is nerve root compromise and says ICD-10-CM on the card', () => {
    const f = fact('rf.nerve-root-compromise', { resources: [usCoreCondition('M5416', OID.icd10cm)] });
    expect(f.value).toBe('true');
    expect(f.evidence[0]?.code).toBe('ICD-10-CM M5416');
  });
  test('cauda equina syndrome by the SNOMED CT OID is a major neurological problem', () => {
    expect(valueOf('rf.major-neuro-problem', { resources: [usCoreCondition('192970008', OID.snomed)] })).toBe('true');
  });
  test('a body temperature of 38.9 °C coded by the LOINC OID is a fever', () => {
    const t: Observation = temperature(38.9, daysAgo(5));
    const byOid: Observation = { ...t, code: { coding: [{ system: OID.loinc, code: '8310-5' }] }, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] };
    expect(valueOf('rf.fever', { resources: [byOid] })).toBe('true');
  });
  test('five weeks of naproxen coded by the RxNorm OID are conservative care', () => {
    const m: MedicationRequest = { ...medication('7258', 'naproxen', daysAgo(35)), medicationCodeableConcept: { coding: [{ system: OID.rxnorm, code: '7258' }] } };
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, m] })).toBe('true');
  });
  test('an OID the service does not know (HCPCS) matches nothing', () => {
    const o = order('72148', { code: { coding: [{ system: 'urn:oid:2.16.840.1.113883.6.285', code: '72148' }] } });
    expect(isInScope(o, loaded.policy, loaded.valueSets)).toBe(false);
  });
  test('a prior lumbar MRI whose procedure is coded by the CPT OID is recent imaging', () => {
    const study = lumbarStudy(daysAgo(40));
    const coded = { ...study, series: [], procedureCode: [{ coding: [{ system: OID.cpt, code: '72148' }] }] };
    expect(valueOf('fact.recent-advanced-imaging', { resources: [coded] })).toBe('true');
  });
});

describe('US Core noise is ignored', () => {
  test('an encounter-diagnosis category and US Core profile do not stop low back pain counting as a symptom', () => {
    const c: Condition = {
      ...usCoreCondition('M54.50', 'http://hl7.org/fhir/sid/icd-10-cm'),
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
    };
    expect(valueOf('fact.back-symptoms', { resources: [c] })).toBe('true');
  });
  test('a US Core MedicationRequest with a community category and profile counts as conservative care', () => {
    const m: MedicationRequest = {
      ...medication('7258', 'naproxen', daysAgo(35)),
      meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest'] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'community' }] }],
      reportedBoolean: false,
      requester: { reference: 'Practitioner/1' },
    };
    expect(valueOf('fact.conservative-care-4wk', { resources: [backPain, m] })).toBe('true');
  });
});
