import type { RecordStore } from '../src/store/record-store.js';

/**
 * A record store that keeps nothing, for the benchmark's (b) "with the record off" (issue #13: (h) is compared
 * with it). It lives in bench/, not src/: the service itself has no setting that turns its record off.
 */
export const noRecord: RecordStore = {
  engine: 'pglite',
  recordInvocation: () => Promise.resolve({ state: 'durable' }),
  getAssertion: () => Promise.resolve(undefined),
  listInvocations: () => Promise.resolve({ items: [] }),
  recordFeedback: (items) => Promise.resolve(items.length),
  putQuestionnaire: () => Promise.resolve(),
  getQuestionnaire: () => Promise.resolve(undefined),
  claimJti: () => Promise.resolve(true),
  cleanup: () => Promise.resolve({ invocations: 0, feedback: 0, questionnaires: 0, jtis: 0 }),
  health: () => Promise.resolve({ status: 'ok', queued: 0 }),
  flush: () => Promise.resolve({ remaining: 0 }),
  close: () => Promise.resolve({ remaining: 0 }),
  // The dashboard reads an empty record.
  decisionsPerDay: () => Promise.resolve([]),
  orderCodes: () => Promise.resolve([]),
  factSources: () => Promise.resolve([]),
  missingFacts: () => Promise.resolve({ documentationNeeded: 0, facts: [] }),
  feedbackByDecision: () => Promise.resolve([]),
  overrideReasons: () => Promise.resolve([]),
  overridesByCriterion: () => Promise.resolve([]),
  fhirFailures: () => Promise.resolve({ invocations: 0, withFailure: 0, failures: [] }),
  hookDurations: () => Promise.resolve([]),
  notesUnread: () => Promise.resolve([]),
  listDeterminations: () => Promise.resolve({ items: [] }),
  getDetermination: () => Promise.resolve(undefined),
};
