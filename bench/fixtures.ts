import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentReference, Patient, Resource, ServiceRequest } from 'fhir/r4.js';
import { loadSyntheaRecord } from '../src/demo/synthea.js';
import { prefetchOf } from '../test/support/prefetch.js';

/** A patient's record with a lumbar MRI order to sign: what each benchmark sends. */
export interface BenchPatient {
  readonly name: string;
  readonly patient: Patient;
  readonly resources: readonly Resource[];
  readonly order: ServiceRequest;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const synthea = (file: string): string =>
  file.startsWith('Clemente') ? join(root, 'test', 'fixtures', 'synthea', file) : join(root, 'demo', 'synthea', file);
const RELEVANT = new Set(['Coverage', 'Condition', 'Observation', 'ImagingStudy', 'Procedure', 'MedicationRequest', 'ServiceRequest', 'DiagnosticReport', 'QuestionnaireResponse']);

function withOrder(name: string, file: string): BenchPatient {
  const { patient, resources } = loadSyntheaRecord(synthea(file));
  const pid = patient.id ?? '';
  const subject = { reference: `Patient/${pid}` };
  const added: Resource[] = [
    { resourceType: 'Coverage', id: `cov-${pid.slice(0, 8)}`, status: 'active', beneficiary: subject, payor: [{ display: 'Example Medicare Advantage Plan' }] } as Resource,
    {
      resourceType: 'Condition',
      id: `lbp-${pid.slice(0, 8)}`,
      subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M54.50', display: 'Low back pain, unspecified' }] },
      onsetDateTime: new Date(Date.now() - 70 * 86_400_000).toISOString(),
    } as Resource,
  ];
  const order: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: `mri-${pid.slice(0, 8)}`,
    status: 'draft',
    intent: 'order',
    subject,
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '72148' }] },
  };
  return { name, patient, resources: [...resources.filter((r) => RELEVANT.has(r.resourceType)), ...added], order };
}

/** A typical patient: the smallest Synthea record near 60 resources, with back pain and coverage added. */
export const typicalPatient = (): BenchPatient => withOrder('typical', 'Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json');

/** The largest record of the shared Synthea set (by size). */
export const largestPatient = (): BenchPatient => withOrder('largest', 'Tamatha_Witting_55a37df6-b780-4272-8d51-499be0e7df86.json');

/**
 * The largest record's clinical resources repeated (with fresh ids) until it holds `count` resources: a
 * heavy chart, to show how the cost grows past what the Synthea set contains.
 */
export function heavyPatient(count: number): BenchPatient {
  const base = largestPatient();
  const resources: Resource[] = [];
  for (let copy = 0; resources.length < count; copy++) {
    for (const r of base.resources) {
      if (resources.length >= count) {
        break;
      }
      resources.push({ ...r, id: `${r.id ?? 'r'}-${copy}` });
    }
  }
  return { ...base, name: `heavy-${count}`, resources };
}

/** A note to attach: its media type and its text as the EHR stores it. */
export interface BenchNoteText {
  readonly contentType: string;
  readonly text: string;
}

/**
 * The patient with notes added: one current DocumentReference per text, its text base64 in the attachment (SPEC
 * §8.1, as EHRs send notes in prefetch), the k-th note dated k + 1 days before `now` (newest first).
 */
export function withNotes(p: BenchPatient, notes: readonly BenchNoteText[], now = Date.now()): BenchPatient {
  const pid = p.patient.id ?? '';
  const documents: DocumentReference[] = notes.map((n, k) => ({
    resourceType: 'DocumentReference',
    id: `note-${pid.slice(0, 8)}-${k}`,
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
    subject: { reference: `Patient/${pid}` },
    date: new Date(now - (k + 1) * 86_400_000).toISOString(),
    content: [{ attachment: { contentType: n.contentType, data: Buffer.from(n.text, 'utf8').toString('base64') } }],
  }));
  return { ...p, name: `${p.name}+${notes.length} notes`, resources: [...p.resources, ...documents] };
}

/** The prefetch an EHR would send for the service's templates, each search as one searchset page. */
export function prefetchFor(p: BenchPatient): Record<string, unknown> {
  return prefetchOf(p.patient, p.resources);
}

/** An order-sign call for the patient, with prefetch or pointing at a FHIR server. */
export function orderSign(p: BenchPatient, data: { prefetch: true } | { fhirServer: string; token: string }): Record<string, unknown> {
  return {
    hookInstance: '6b2f6c51-1c5f-4f0b-9d4e-0d4b8f0e5f11',
    hook: 'order-sign',
    ...('fhirServer' in data
      ? { fhirServer: data.fhirServer, fhirAuthorization: { access_token: data.token, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'necessity' } }
      : {}),
    context: {
      userId: 'Practitioner/bench',
      patientId: p.patient.id,
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: p.order }] },
    },
    ...('prefetch' in data ? { prefetch: prefetchFor(p) } : {}),
  };
}
