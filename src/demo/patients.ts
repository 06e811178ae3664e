import { join } from 'node:path';
import type { Resource } from 'fhir/r4.js';
import { projectRoot } from '../project-root.js';
import { loadSyntheaRecord } from './synthea.js';

/** A demo patient: who, which path of the policy the record shows, and the order to try. */
export interface DemoPatient {
  readonly id: string;
  readonly name: string;
  /** What the record shows, in a clinician's words. */
  readonly story: string;
  /** The decision the record is built to reach with the suggested order. */
  readonly expected: string;
  readonly suggestedOrder: { readonly code: string; readonly reason: string };
}

const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const CPT = 'http://www.ama-assn.org/go/cpt';
const DAY = 86_400_000;

/** The demo's synthetic records, built relative to the moment the demo starts. */
export interface DemoData {
  readonly patients: readonly DemoPatient[];
  readonly resources: readonly Resource[];
}

/**
 * Builds the demo data set: a dozen synthetic patients, each showing one path through the policy, plus two
 * real-shaped Synthea records (one of them the CDS Hooks sandbox's default patient).
 * @param now - epoch ms the relative dates count from
 */
export function demoData(now = Date.now()): DemoData {
  const at = (days: number): string => new Date(now - days * DAY).toISOString();
  const resources: Resource[] = [];
  const patients: DemoPatient[] = [];
  let n = 0;

  function person(id: string, family: string, given: string, birthDate: string, gender: 'female' | 'male', demo: Omit<DemoPatient, 'id' | 'name'>): Builder {
    patients.push({ id, name: `${given} ${family}`, ...demo });
    resources.push({ resourceType: 'Patient', id, name: [{ family, given: [given] }], gender, birthDate } as Resource);
    resources.push({
      resourceType: 'Coverage',
      id: `${id}-coverage`,
      status: 'active',
      beneficiary: { reference: `Patient/${id}` },
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'MCPOL', display: 'Medicare Advantage policy' }] },
      subscriberId: `MA-${id}`,
      payor: [{ display: 'Example Medicare Advantage Plan' }],
    } as Resource);
    return new Builder(id, resources, at, () => `${id}-${++n}`);
  }

  person('demo-fever', 'Okafor', 'Adaeze', '1957-03-14', 'female', {
    story: 'Low back pain for two months; a temperature of 38.9 °C three days ago among normal readings.',
    expected: 'meets criteria: fever (a red flag found in the vital signs)',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 60)
    .temperatures([36.8, 37.0, 36.7, 38.9, 36.9], [30, 20, 10, 3, 1]);

  person('demo-cancer-history', 'Lindqvist', 'Henrik', '1949-08-02', 'male', {
    story: 'Low back pain; a history of prostate cancer on the problem list.',
    expected: 'meets criteria: history of cancer (a red flag in the problem list)',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 45)
    .condition('Z85.46', 'Personal history of malignant neoplasm of prostate', 1600, 'resolved');

  person('demo-cauda-equina', 'Moreau', 'Celine', '1966-11-20', 'female', {
    story: 'Cauda equina syndrome diagnosed this week.',
    expected: 'meets criteria: major neurological problem',
    suggestedOrder: { code: '72158', reason: 'G83.4' },
  }).condition('G83.4', 'Cauda equina syndrome', 4);

  person('demo-pt-six-weeks', 'Nakamura', 'Kenji', '1955-01-09', 'male', {
    story: 'Low back pain; six weeks of physical therapy, symptoms persist.',
    expected: 'meets criteria: failed conservative management',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 90)
    .procedure('97110', 'Therapeutic exercise', 50, 8);

  person('demo-naproxen', 'Alvarez', 'Rosa', '1960-06-30', 'female', {
    story: 'Low back pain; naproxen for five weeks.',
    expected: 'meets criteria: failed conservative management (medication)',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 60)
    .medication('7258', 'naproxen', 35);

  person('demo-pt-ten-days', 'Brennan', 'Siobhan', '1962-09-12', 'female', {
    story: 'Low back pain; only ten days of physical therapy so far.',
    expected: 'documentation needed: 4 weeks of conservative care or a red flag',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 30)
    .procedure('97110', 'Therapeutic exercise', 20, 10);

  person('demo-back-pain-only', 'Kowalski', 'Piotr', '1958-04-17', 'male', {
    story: 'Low back pain and nothing else documented; an outside referral letter is a scanned PDF, which the service does not read.',
    expected: 'documentation needed: 4 weeks of conservative care or a red flag (and the card says one note could not be read)',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 40)
    .scannedDocument('Outside referral letter (scanned)', 12);

  person('demo-repeat-imaging', 'Haddad', 'Yusuf', '1953-12-03', 'male', {
    story: 'A lumbar MRI 40 days ago; physical therapy before it; nothing new documented since.',
    expected: 'documentation needed: new or worsening symptoms since the last MRI',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  })
    .condition('M54.50', 'Low back pain, unspecified', 150)
    .procedure('97110', 'Therapeutic exercise', 100, 60)
    .lumbarMri(40);

  person('demo-spectroscopy', 'Fontaine', 'Elise', '1964-02-25', 'female', {
    story: 'Low back pain; MR spectroscopy of the lumbar spine is being ordered.',
    expected: 'does not meet criteria: spectroscopy is a non-indication',
    suggestedOrder: { code: '76390', reason: 'M54.50' },
  }).condition('M54.50', 'Low back pain, unspecified', 30);

  person('demo-ddd-injection', 'Oyelaran', 'Tunde', '1956-07-21', 'male', {
    story: 'Lumbar degenerative disc disease; six weeks of therapy; an epidural steroid injection is ordered.',
    expected: 'meets criteria: conservative care failed and an intervention is planned',
    suggestedOrder: { code: '72148', reason: 'M51.36' },
  })
    .condition('M51.36', 'Other intervertebral disc degeneration, lumbar region', 120)
    .procedure('97110', 'Therapeutic exercise', 55, 10)
    .order('64483', 'Injection, anesthetic agent and/or steroid, transforaminal epidural, lumbar or sacral');

  person('demo-ddd-no-intervention', 'Petrov', 'Anya', '1961-10-05', 'female', {
    story: 'Lumbar degenerative disc disease; six weeks of therapy; no intervention planned.',
    expected: 'documentation needed: whether surgery or an injection is being considered',
    suggestedOrder: { code: '72148', reason: 'M51.36' },
  })
    .condition('M51.36', 'Other intervertebral disc degeneration, lumbar region', 120)
    .procedure('97110', 'Therapeutic exercise', 55, 10);

  // Four records whose deciding facts are written only in notes (SPEC §8): each is signed as a plain lumbar MRI.
  person('demo-note-saddle', 'Whitfield', 'Marcus', '1969-02-11', 'male', {
    story: 'Nothing coded: an emergency department note from yesterday describes saddle numbness and a weak urinary stream.',
    expected: 'meets criteria: saddle anesthesia, documented in an ED note',
    suggestedOrder: { code: '72148', reason: '' },
  }).note(
    'Emergency department note',
    1,
    [
      'Emergency Department Note',
      '',
      'CC: low back pain, numbness "down there"',
      '',
      'HPI: 57 yo M with 4 days of severe low back pain after lifting a water heater. Since this',
      'morning he reports numbness in the saddle area when wiping and a weaker urinary stream.',
      'No fevers. No history of cancer.',
      '',
      'Exam: T 37.0 C, HR 96, BP 150/92. Lumbar paraspinal spasm. Decreased light touch over the',
      'perineum. Strength 5/5 in both legs. Reflexes 2+ and symmetric.',
      '',
      'A/P: Low back pain with new saddle numbness. Concern for cauda equina compression.',
      'Emergent MRI lumbar spine; neurosurgery aware.',
    ].join('\n'),
  );

  person('demo-note-pt', 'Sato', 'Hana', '1963-07-29', 'female', {
    story: 'Nothing coded: a physical therapy progress note documents six weeks of therapy without relief.',
    expected: 'meets criteria: 4 weeks of conservative care failed, documented in a PT note',
    suggestedOrder: { code: '72148', reason: '' },
  }).note(
    'Physical therapy progress note',
    2,
    [
      'Physical Therapy Progress Note',
      '',
      'Diagnosis: chronic low back pain.',
      '',
      'Subjective: Patient has attended PT twice weekly for 6 weeks with no improvement. Pain 6/10,',
      'worse with sitting longer than 20 minutes. Doing her home exercise program daily.',
      '',
      'Objective: Lumbar flexion limited to 50%. Negative straight leg raise bilaterally.',
      '',
      'Assessment: Symptoms persist despite 6 weeks of physical therapy.',
      'Plan: Discharge from PT; recommend follow-up with her physician regarding imaging.',
    ].join('\n'),
  );

  person('demo-note-ros', 'Abara', 'Chidi', '1975-05-03', 'male', {
    story: 'Nothing coded: a thorough review of systems and exam deny every red flag that can only be asked. Only the length of conservative care is left to document.',
    expected: 'documentation needed: 4 weeks of conservative care (the only question left)',
    suggestedOrder: { code: '72148', reason: '' },
  }).note(
    'Primary care note',
    2,
    [
      'Primary Care Visit',
      '',
      'CC: Low back pain.',
      '',
      'HPI: 51 yo M with low back pain for 3 weeks after helping a friend move. Axial, worse with',
      'bending. Ibuprofen as needed.',
      '',
      'ROS:',
      'Constitutional: Denies fever, chills or weight loss.',
      'MSK: Denies night pain or pain worse lying flat.',
      'Neuro: Denies saddle anesthesia or bowel/bladder incontinence.',
      '',
      'Exam:',
      'Tender L4-L5 paraspinals. Negative straight leg raise. Rectal tone intact. Perianal sensation',
      'intact.',
      '',
      'Assessment: Mechanical low back pain; no signs of malignancy.',
      'Plan: Lumbar MRI requested by the patient.',
    ].join('\n'),
  );

  person('demo-note-unchanged', 'Lindgren', 'Ingrid', '1958-09-14', 'female', {
    story: 'A lumbar MRI 30 days ago; the note after it says her symptoms are unchanged and nothing has been tried since.',
    expected: 'does not meet criteria: a lumbar MRI 30 days ago, nothing new and no treatment since',
    suggestedOrder: { code: '72148', reason: '' },
  })
    .lumbarMri(30)
    .note(
      'Spine clinic follow-up note',
      5,
      [
        'Spine Clinic Follow-up',
        '',
        'HPI: 68 yo F seen to review her lumbar MRI from last month, which showed mild multilevel',
        'degenerative changes. Her symptoms are unchanged since the MRI. She has not started physical',
        'therapy or any medication yet.',
        '',
        'Exam: Tender lower lumbar paraspinals. Strength 5/5. Reflexes symmetric.',
        '',
        'Plan: She asks for a repeat lumbar MRI.',
      ].join('\n'),
    );

  // A heavy, real-shaped record from the shared Synthea set, with lumbar findings added.
  const heavy = loadSyntheaRecord(join(projectRoot(), 'demo', 'synthea', 'Tamatha_Witting_55a37df6-b780-4272-8d51-499be0e7df86.json'));
  const heavyId = heavy.patient.id ?? 'synthea-heavy';
  resources.push(heavy.patient, ...heavy.resources);
  patients.push({
    id: heavyId,
    name: 'Tamatha Witting (Synthea)',
    story: 'A long real-shaped record (Synthea) with lumbar radiculopathy added last month.',
    expected: 'meets criteria: nerve root compromise',
    suggestedOrder: { code: '72148', reason: 'M54.16' },
  });
  new Builder(heavyId, resources, at, () => `${heavyId.slice(0, 8)}-${++n}`).coverage().condition('M54.16', 'Radiculopathy, lumbar region', 30);

  // The CDS Hooks sandbox's default patient (its PAMA screen orders a lumbar MRI for low back pain).
  const sandbox = loadSyntheaRecord(join(projectRoot(), 'demo', 'synthea', 'Chet_Thompson_eda17701-070d-4fae-9f7d-c8cd6263b63a.json'));
  const sandboxId = sandbox.patient.id ?? 'synthea-sandbox';
  resources.push(sandbox.patient, ...sandbox.resources);
  patients.push({
    id: sandboxId,
    name: 'Chet Thompson (Synthea, the sandbox default)',
    story:
      'The CDS Hooks sandbox default patient. Synthea left an acetaminophen prescription from 1954 active: by SPEC §4.1 an active prescription runs for its supply (or 90 days) and ends no later than now, so it is not current therapy, and four weeks of conservative care must be documented.',
    expected: 'documentation needed: 4 weeks of conservative care or a red flag',
    suggestedOrder: { code: '72148', reason: 'M54.50' },
  });
  new Builder(sandboxId, resources, at, () => `${sandboxId.slice(0, 8)}-${++n}`).coverage();

  return { patients, resources };
}

/** Adds one patient's records. */
class Builder {
  constructor(
    private readonly patientId: string,
    private readonly out: Resource[],
    private readonly at: (days: number) => string,
    private readonly nextId: () => string,
  ) {}

  private get subject(): { reference: string } {
    return { reference: `Patient/${this.patientId}` };
  }

  coverage(): this {
    this.out.push({
      resourceType: 'Coverage',
      id: `${this.patientId.slice(0, 8)}-coverage`,
      status: 'active',
      beneficiary: this.subject,
      payor: [{ display: 'Example Medicare Advantage Plan' }],
    } as Resource);
    return this;
  }

  condition(code: string, display: string, daysAgo: number, clinical = 'active'): this {
    this.out.push({
      resourceType: 'Condition',
      id: this.nextId(),
      subject: this.subject,
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: ICD, code, display }], text: display },
      onsetDateTime: this.at(daysAgo),
      recordedDate: this.at(daysAgo),
    } as Resource);
    return this;
  }

  temperatures(celsius: readonly number[], daysAgo: readonly number[]): this {
    celsius.forEach((value, i) => {
      this.out.push({
        resourceType: 'Observation',
        id: this.nextId(),
        status: 'final',
        subject: this.subject,
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8310-5', display: 'Body temperature' }], text: 'Body temperature' },
        effectiveDateTime: this.at(daysAgo[i] ?? 0),
        valueQuantity: { value, unit: 'Cel', system: 'http://unitsofmeasure.org', code: 'Cel' },
      } as Resource);
    });
    return this;
  }

  procedure(code: string, display: string, fromDaysAgo: number, toDaysAgo: number): this {
    this.out.push({
      resourceType: 'Procedure',
      id: this.nextId(),
      status: 'completed',
      subject: this.subject,
      code: { coding: [{ system: CPT, code, display }], text: display },
      performedPeriod: { start: this.at(fromDaysAgo), end: this.at(toDaysAgo) },
    } as Resource);
    return this;
  }

  medication(rxnorm: string, display: string, daysAgo: number): this {
    this.out.push({
      resourceType: 'MedicationRequest',
      id: this.nextId(),
      status: 'active',
      intent: 'order',
      subject: this.subject,
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: rxnorm, display }], text: display },
      authoredOn: this.at(daysAgo),
    } as Resource);
    return this;
  }

  lumbarMri(daysAgo: number): this {
    this.out.push({
      resourceType: 'ImagingStudy',
      id: this.nextId(),
      status: 'available',
      subject: this.subject,
      started: this.at(daysAgo),
      description: 'MRI lumbar spine without contrast',
      modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }],
      series: [
        {
          uid: `2.25.${daysAgo}${this.patientId.length}`,
          modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' },
          bodySite: { system: 'http://snomed.info/sct', code: '122496007', display: 'Lumbar spine structure' },
        },
      ],
    } as Resource);
    return this;
  }

  /** A clinical note (DocumentReference) whose text is its base64 attachment, as EHRs send it (SPEC §8.1). */
  note(type: string, daysAgo: number, text: string): this {
    this.out.push({
      resourceType: 'DocumentReference',
      id: this.nextId(),
      status: 'current',
      docStatus: 'final',
      type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }], text: type },
      category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note' }] }],
      subject: this.subject,
      date: this.at(daysAgo),
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64') } }],
    } as Resource);
    return this;
  }

  /**
   * A scanned document (a PDF attachment): the service does not read PDFs (SPEC §8.1) and counts it on the card,
   * as real charts full of faxed letters need.
   */
  scannedDocument(title: string, daysAgo: number): this {
    this.out.push({
      resourceType: 'DocumentReference',
      id: this.nextId(),
      status: 'current',
      type: { coding: [{ system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' }], text: title },
      subject: this.subject,
      date: this.at(daysAgo),
      description: title,
      content: [{ attachment: { contentType: 'application/pdf', title: `${title}.pdf`, data: Buffer.from('%PDF-1.4\n% scanned page\n%%EOF\n', 'latin1').toString('base64') } }],
    } as Resource);
    return this;
  }

  order(code: string, display: string): this {
    this.out.push({
      resourceType: 'ServiceRequest',
      id: this.nextId(),
      status: 'active',
      intent: 'order',
      subject: this.subject,
      code: { coding: [{ system: CPT, code, display }], text: display },
      authoredOn: this.at(1),
    } as Resource);
    return this;
  }
}
