import type {
  Condition,
  Coverage,
  DiagnosticReport,
  ImagingStudy,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  QuestionnaireResponse,
  Resource,
  ServiceRequest,
} from 'fhir/r4.js';
import { determine, type Determination } from '../../src/cds/determine.js';
import type { FactResult } from '../../src/facts/extract-facts.js';
import { RecordIndex } from '../../src/facts/record-index.js';
import type { SourceFailure, SourceType } from '../../src/fhir/patient-record.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { recordOf } from './record.js';

/** A fixed "now" so that every window in these tests means the same thing on any day. */
export const NOW = Date.parse('2026-11-23T12:00:00Z');
export const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
export const SCT = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PATIENT = 'Patient/pat';

/** dateTime `n` days before NOW. */
export function daysAgo(n: number): string {
  return new Date(NOW - n * 86_400_000).toISOString();
}

/** Calendar date `n` days before NOW. */
export function dayAgo(n: number): string {
  return daysAgo(n).slice(0, 10);
}

let counter = 0;
const nextId = (prefix: string): string => `${prefix}-${++counter}`;

export function patient(birthDate = '1960-05-01'): Patient {
  return { resourceType: 'Patient', id: 'pat', birthDate };
}

/** The evaluation's configured plan (SPEC §7.1), as the shipped policy/plans.json names it. */
export const PLAN_NAME = 'Example Medicare Advantage Plan';
export const PLAN_ID = { system: 'http://example.org/fhir/sid/payer-id', value: 'EXMA' };

/** An active Coverage of the configured plan, named by payor display: a member whose orders the service reviews. */
export function planCoverage(patientId = 'pat', extra: Partial<Coverage> = {}): Coverage {
  return {
    resourceType: 'Coverage',
    id: `${patientId}-coverage`,
    status: 'active',
    beneficiary: { reference: `Patient/${patientId}` },
    payor: [{ display: PLAN_NAME }],
    ...extra,
  };
}

export interface ConditionOptions {
  onset?: string;
  clinical?: string | null;
  verification?: string | null;
  display?: string;
}

/** A Condition coded in ICD-10-CM (or another system). */
export function condition(code: string, options: ConditionOptions = {}, system = ICD): Condition {
  const c: Condition = {
    resourceType: 'Condition',
    id: nextId('cond'),
    subject: { reference: PATIENT },
    code: { coding: [{ system, code, display: options.display ?? code }] },
    onsetDateTime: options.onset ?? daysAgo(60),
  };
  if (options.clinical !== null) {
    c.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: options.clinical ?? 'active' }] };
  }
  if (options.verification !== null) {
    c.verificationStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: options.verification ?? 'confirmed' }] };
  }
  return c;
}

/** An Observation with a quantity. */
export function quantity(loinc: string, value: number, unit: string, when: string, status: Observation['status'] = 'final'): Observation {
  return {
    resourceType: 'Observation',
    id: nextId('obs'),
    status,
    subject: { reference: PATIENT },
    code: { coding: [{ system: LOINC, code: loinc }] },
    effectiveDateTime: when,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

export const temperature = (celsius: number, when: string, status?: Observation['status']): Observation => quantity('8310-5', celsius, 'Cel', when, status);
export const weight = (kg: number, when: string): Observation => quantity('29463-7', kg, 'kg', when);

/** A Procedure (physical therapy by default) over a period or on one day. */
export function procedure(code: string, when: { start: string; end?: string } | string, status: Procedure['status'] = 'completed', system = CPT): Procedure {
  const p: Procedure = { resourceType: 'Procedure', id: nextId('proc'), status, subject: { reference: PATIENT }, code: { coding: [{ system, code }] } };
  if (typeof when === 'string') {
    p.performedDateTime = when;
  } else {
    p.performedPeriod = { start: when.start, ...(when.end ? { end: when.end } : {}) };
  }
  return p;
}

/** A MedicationRequest by RxNorm code and display. */
export function medication(rxnorm: string, display: string, authoredOn: string, status: MedicationRequest['status'] = 'active', supplyDays?: number): MedicationRequest {
  const m: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id: nextId('med'),
    status,
    intent: 'order',
    subject: { reference: PATIENT },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxnorm, display }], text: display },
    authoredOn,
  };
  if (supplyDays !== undefined) {
    m.dispenseRequest = { expectedSupplyDuration: { value: supplyDays, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } };
  }
  return m;
}

/** An ImagingStudy of the lumbar spine (MR by default). */
export function lumbarStudy(started: string, modality = 'MR', status: ImagingStudy['status'] = 'available'): ImagingStudy {
  return {
    resourceType: 'ImagingStudy',
    id: nextId('img'),
    status,
    subject: { reference: PATIENT },
    started,
    modality: [{ system: DCM, code: modality }],
    series: [{ uid: '2.25.1', modality: { system: DCM, code: modality }, bodySite: { system: SCT, code: '122496007', display: 'Lumbar spine structure' } }],
  };
}

export function report(conclusion: string, when: string, study?: ImagingStudy): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    id: nextId('dr'),
    status: 'final',
    subject: { reference: PATIENT },
    code: { text: 'Imaging report' },
    effectiveDateTime: when,
    conclusionCode: [{ coding: [{ system: ICD, code: conclusion }] }],
    ...(study ? { imagingStudy: [{ reference: `ImagingStudy/${study.id ?? ''}` }] } : {}),
  };
}

/** A ServiceRequest: the lumbar MRI being ordered by default. */
export function order(code = '72148', extra: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: nextId('sr'),
    status: 'draft',
    intent: 'order',
    subject: { reference: PATIENT },
    code: { coding: [{ system: CPT, code }] },
    authoredOn: new Date(NOW).toISOString(),
    ...extra,
  };
}

/** The clinician's answers for this policy. */
export function answers(values: Record<string, boolean>, authored = daysAgo(1), questionnaire = 'http://example.org/Questionnaire/cohere-ma-mri-lumbar-spine'): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: nextId('qr'),
    status: 'completed',
    questionnaire,
    subject: { reference: PATIENT },
    authored,
    item: Object.entries(values).map(([linkId, valueBoolean]) => ({ linkId, answer: [{ valueBoolean }] })),
  };
}

const loaded = loadPolicy();

export interface Situation {
  readonly resources?: readonly Resource[];
  readonly order?: ServiceRequest;
  readonly otherOrders?: readonly ServiceRequest[];
  readonly patient?: Patient;
  readonly unreadable?: Partial<Record<SourceType, SourceFailure>>;
}

/** Decides a lumbar MRI order for a patient with these records. */
export function decideFor(situation: Situation = {}): Determination {
  const record = recordOf(situation.patient ?? patient(), situation.resources ?? [], situation.unreadable);
  const o = situation.order ?? order();
  return determine(loaded, record, new RecordIndex(record), o, [o, ...(situation.otherOrders ?? [])], NOW);
}

/** One fact of that determination. */
export function fact(id: string, situation: Situation = {}): FactResult {
  const f = decideFor(situation).facts.get(id);
  if (!f) {
    throw new Error(`no fact ${id}`);
  }
  return f;
}

/** Just the value of one fact. */
export function valueOf(id: string, situation: Situation = {}): string {
  return fact(id, situation).value;
}
