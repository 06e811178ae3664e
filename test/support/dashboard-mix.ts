import type { Decision } from '../../src/engine/decide.js';
import type { DeterminationRecord, EvidenceRecord, FeedbackRecord, InvocationRecord } from '../../src/store/record-store.js';
import { signing } from './records.js';

/**
 * The known mix of issue #14's acceptance test, as a reviewer's pilot month in miniature: 100 signed lumbar MRI
 * orders over ten days — 60 meet criteria, 30 need documentation (12 of them missing 4 weeks of conservative
 * care), 10 do not meet criteria; 7 cards overridden with two reasons; 3 calls whose FHIR server timed out.
 * Each record is the real response the service sent for a scenario of that decision (test/fixtures/records),
 * so a determination opened from the table shows a real card.
 *
 * Every figure below is stated here once, as the scenario says it, for the tests to assert against.
 */
export const MIX = {
  determinations: 100,
  days: 10,
  meets: 60,
  documentationNeeded: 30,
  doesNotMeet: 10,
  /** Documentation-needed orders missing fact.conservative-care-4wk (with the five red flags the card also asks for). */
  missingConservativeCare: 12,
  /** The other documentation-needed orders miss only fact.new-or-worsening-symptoms. */
  missingNewSymptoms: 18,
  /** Meets: 45 on codes alone, 10 on codes and a note quote, 5 on the clinician's answers alone. */
  meetsByCodes: 45,
  meetsByCodesAndNotes: 10,
  meetsByAnswers: 5,
  /** Meets on CPT 72158 (the rest are 72148). */
  meetsOn72158: 10,
  overrides: 7,
  /** documentation-needed: 2 urgent, 3 documented elsewhere; does-not-meet: 2 urgent. */
  overridesUrgent: 4,
  overridesDocumentedElsewhere: 3,
  overridesDocumentationNeeded: 5,
  overridesDoesNotMeet: 2,
  acceptedMeets: 40,
  acceptedDocumentationNeeded: 6,
  acceptedDoesNotMeet: 1,
  /** Calls whose FHIR reads timed out: two Condition searches, one DocumentReference search. */
  conditionTimeouts: 2,
  documentReferenceTimeouts: 1,
  /** Notes not read: every documentation-needed determination one unsupported content type; five of them also two timed-out notes. */
  notesUnsupported: 30,
  notesTimedOutDeterminations: 5,
  notesTimedOut: 10,
} as const;

export const CPT_72148 = 'http://www.ama-assn.org/go/cpt|72148';
export const CPT_72158 = 'http://www.ama-assn.org/go/cpt|72158';
export const OVERRIDE_SYSTEM = 'http://necessity.example.org/fhir/CodeSystem/override-reason';

export interface Mix {
  readonly records: readonly InvocationRecord[];
  readonly feedback: readonly FeedbackRecord[];
  /** The hook duration given to record i (ms), so per-day percentiles can be checked. */
  readonly durationOf: (i: number) => number;
  /** The first instant of the mix's first UTC day, and the end of its last. */
  readonly since: number;
  readonly until: number;
}

const DAY_MS = 86_400_000;

/** The decision of the i-th order of the mix (interleaved, so every day has all three). */
function decisionOf(i: number): { decision: Decision; n: number } {
  // 0..99 → 6 meets, 3 documentation-needed, 1 does-not-meet in every ten.
  const k = i % 10;
  const block = Math.floor(i / 10);
  if (k < 6) return { decision: 'meets-criteria', n: block * 6 + k };
  if (k < 9) return { decision: 'documentation-needed', n: block * 3 + (k - 6) };
  return { decision: 'does-not-meet-criteria', n: block };
}

const noteQuote = (fact: string, patient: string): EvidenceRecord => ({
  fact,
  reference: `DocumentReference/${patient}-note`,
  assertion: 'present',
  span: { in: 'HPI', start: 0, end: 28 },
  quote: 'history of prostate cancer',
  source: 'note',
});

/**
 * Builds the mix over ten UTC days starting at `firstDay` (epoch ms at 00:00Z).
 * @param firstDay - the first day of the mix, at midnight UTC
 */
export function dashboardMix(firstDay: number): Mix {
  const records: InvocationRecord[] = [];
  const feedback: FeedbackRecord[] = [];
  const durationOf = (i: number): number => 20 + (i % 10) * 5 + Math.floor(i / 10);
  let overridesDn = 0;
  let overridesDnm = 0;
  let acceptedDn = 0;
  let acceptedDnm = 0;
  for (let i = 0; i < MIX.determinations; i++) {
    const { decision, n } = decisionOf(i);
    const day = Math.floor(i / 10);
    const receivedAt = firstDay + day * DAY_MS + 8 * 3_600_000 + (i % 10) * 600_000;
    const timeout = i === 13 || i === 47 ? ['Condition:timeout'] : i === 82 ? ['DocumentReference:timeout'] : [];
    const base = signing(decision, { receivedAt, patientId: `mix-${String(i).padStart(3, '0')}`, unreadable: timeout });
    const d0 = base.determinations[0] as DeterminationRecord;
    let d: DeterminationRecord = d0;
    if (decision === 'meets-criteria') {
      if (n >= 45 && n < 55) {
        d = { ...d, evidence: [...d.evidence, noteQuote('rf.cancer-history', base.patientId)] };
      } else if (n >= 55) {
        d = {
          ...d,
          evidence: [{ fact: 'rf.saddle-anesthesia', reference: `QuestionnaireResponse/${base.patientId}-qr`, source: 'answer' }],
          satisfied: ['ind.red-flag', 'rf.saddle-anesthesia'],
          mainReason: 'ind.red-flag',
        };
      }
      if (n >= 50) {
        d = { ...d, orderCode: CPT_72158 };
      }
    } else if (decision === 'documentation-needed') {
      if (n >= MIX.missingConservativeCare) {
        d = { ...d, missing: ['fact.new-or-worsening-symptoms'], mainReason: 'fact.new-or-worsening-symptoms' };
      }
      if (n < MIX.notesTimedOutDeterminations) {
        d = { ...d, notesUnread: { 'unsupported-content-type': 1, timeout: 2 } };
      }
    }
    records.push({ ...base, determinations: [d], durationMs: durationOf(i) });
    const card = d.cardUuid as string;
    const at = receivedAt + 30_000;
    const item = (outcome: FeedbackRecord['outcome'], code?: string): FeedbackRecord => ({
      service: 'cohere-lumbar-mri',
      cardUuid: card,
      outcome,
      outcomeAt: at,
      receivedAt: at + 500,
      acceptedSuggestions: [],
      ...(code !== undefined ? { overrideReason: { code, system: OVERRIDE_SYSTEM } } : {}),
    });
    if (decision === 'meets-criteria' && n < MIX.acceptedMeets) {
      feedback.push(item('accepted'));
    } else if (decision === 'documentation-needed') {
      // Overrides on the orders missing conservative care (n 0..4), acceptances on the others.
      if (overridesDn < MIX.overridesDocumentationNeeded && n % 2 === 0) {
        feedback.push(item('overridden', overridesDn < 2 ? 'urgent-clinical-need' : 'documented-elsewhere'));
        overridesDn++;
      } else if (acceptedDn < MIX.acceptedDocumentationNeeded && n % 2 === 1) {
        feedback.push(item('accepted'));
        acceptedDn++;
      }
    } else if (decision === 'does-not-meet-criteria') {
      if (overridesDnm < MIX.overridesDoesNotMeet) {
        feedback.push(item('overridden', 'urgent-clinical-need'));
        overridesDnm++;
      } else if (acceptedDnm < MIX.acceptedDoesNotMeet) {
        feedback.push(item('accepted'));
        acceptedDnm++;
      }
    }
  }
  return { records, feedback, durationOf, since: firstDay, until: firstDay + MIX.days * DAY_MS };
}

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
export function percentileCont(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (rank - lo);
}
