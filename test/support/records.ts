import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision } from '../../src/engine/decide.js';
import { projectRoot } from '../../src/project-root.js';
import type { DeterminationRecord, EvidenceRecord, InvocationRecord, JsonValue } from '../../src/store/record-store.js';

// Found from the project root, so the compiled benchmark (dist/) reads the same fixtures as the tests.
const RECORDS = join(projectRoot(), 'test', 'fixtures', 'records');

/** A response the service sent for a scenario with this decision (test/fixtures/records). */
export function sentResponse(decision: Decision): JsonValue {
  return JSON.parse(readFileSync(join(RECORDS, `${decision}.json`), 'utf8')) as JsonValue;
}

const cache = new Map<Decision, string>();

/** The response's JSON text with every uuid in it fresh, so that each signing's ids are its own. */
function freshResponse(decision: Decision): { response: object; text: string } {
  let template = cache.get(decision);
  if (template === undefined) {
    template = JSON.stringify(sentResponse(decision));
    cache.set(decision, template);
  }
  const renamed = new Map<string, string>();
  const text = template.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (old) => {
    let fresh = renamed.get(old);
    if (fresh === undefined) {
      fresh = randomUUID();
      renamed.set(old, fresh);
    }
    return fresh;
  });
  return { response: JSON.parse(text) as object, text };
}

interface Extension {
  url?: string;
  valueString?: string;
  valueCode?: string;
  extension?: Extension[];
}

/** Reads the determination a card and its system action carry, as the hook will hand it to the store. */
function determinationsOf(response: object): DeterminationRecord[] {
  const body = response as unknown as {
    cards: { uuid: string; extension?: { 'necessity.determination'?: { order: string; decision: Decision; satisfied?: string[]; missing?: string[]; evidence?: { fact: string; reference: string }[] } } }[];
    systemActions?: { resource?: { id?: string; code?: { coding?: { system?: string; code?: string }[] }; extension?: Extension[] } }[];
  };
  return body.cards.flatMap((card) => {
    const d = card.extension?.['necessity.determination'];
    if (!d) {
      return [];
    }
    const action = body.systemActions?.find((a) => `ServiceRequest/${a.resource?.id ?? ''}` === d.order);
    const coverage = action?.resource?.extension?.find((e) => e.url?.endsWith('ext-coverage-information'))?.extension ?? [];
    const part = (url: string): string | undefined => coverage.find((e) => e.url === url)?.valueString ?? coverage.find((e) => e.url === url)?.valueCode;
    const coding = action?.resource?.code?.coding?.[0];
    const evidence: EvidenceRecord[] = (d.evidence ?? []).map((e) => ({ ...e, source: 'code' }));
    if (d.decision === 'documentation-needed') {
      // A note the card quoted: the quote and where it sits, never the rest of the note.
      evidence.push({ fact: 'fact.back-symptoms', reference: 'DocumentReference/pub-10-note', assertion: 'present', span: { in: 'HPI', start: 14, end: 37 }, quote: 'low back pain x 10 days', source: 'note' });
    }
    const coverageAssertionId = part('coverage-assertion-id');
    const satisfiedPaId = part('satisfied-pa-id');
    const covered = part('covered');
    return [
      {
        order: d.order,
        ...(coding?.code !== undefined ? { orderCode: `${coding.system ?? ''}|${coding.code}` } : {}),
        decision: d.decision,
        cardUuid: card.uuid,
        satisfied: d.satisfied ?? [],
        missing: d.missing ?? [],
        evidence,
        ...(coverageAssertionId !== undefined ? { coverageAssertionId } : {}),
        ...(satisfiedPaId !== undefined ? { satisfiedPaId } : {}),
        ...(covered !== undefined ? { covered } : {}),
        mainReason: d.decision === 'documentation-needed' ? (d.missing?.[0] ?? 'unknown') : (d.satisfied?.[0] ?? 'unknown'),
        ...(d.decision === 'documentation-needed' ? { notesUnread: { 'unsupported-content-type': 1 } } : {}),
      },
    ];
  });
}

export interface SigningOptions {
  readonly receivedAt?: number;
  readonly patientId?: string;
  readonly unreadable?: readonly string[];
  readonly clientIss?: string;
}

/**
 * The record of one order-sign call whose answer had this decision: the real response the service sent for
 * that scenario (fresh ids), and the determination its card and system action carry.
 */
export function signing(decision: Decision, options: SigningOptions = {}): InvocationRecord {
  const { response } = freshResponse(decision);
  const determinations = determinationsOf(response);
  return {
    id: randomUUID(),
    receivedAt: options.receivedAt ?? Date.now(),
    hook: 'order-sign',
    hookInstance: randomUUID(),
    service: 'cohere-lumbar-mri',
    ...(options.clientIss !== undefined ? { clientIss: options.clientIss } : {}),
    patientId: options.patientId ?? (decision === 'meets-criteria' ? 'pub-01' : decision === 'documentation-needed' ? 'pub-10' : 'pub-15'),
    orders: determinations.map((d) => d.order),
    policy: { id: 'cohere-ma-mri-lumbar-spine', version: '1.1' },
    determinations,
    response,
    unreadable: options.unreadable ?? [],
    fhirRequests: 9,
    durationMs: 12.34,
  };
}

/** The coverage-assertion-id of a record's first determination (every fixture has one). */
export function assertionIdOf(record: InvocationRecord): string {
  const id = record.determinations[0]?.coverageAssertionId;
  if (id === undefined) {
    throw new Error('this record carries no coverage-assertion-id');
  }
  return id;
}
