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
};
