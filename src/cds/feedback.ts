import type { Logger } from '../logger.js';
import type { FeedbackRecord, RecordStore } from '../store/record-store.js';
import type { FeedbackItem } from './hook-request.js';

/**
 * Records CDS Hooks feedback (§Feedback) in the record store, beside the call whose card it is about (the audit
 * API shows it with the assertion). Clients may send the same feedback more than once ("a CDS Service may
 * receive feedback for the same card instance multiple times"): each (card, outcome) is kept once, by the
 * store's key, across every replica. The log says what arrived, never the clinician's comment.
 *
 * When the store cannot be reached the items are not kept, and the caller says so (503): CDS Hooks leaves
 * the answer to a feedback POST open, and a 200 for feedback that was dropped would lose it silently; a
 * client that retries is safe, since a repeated item is kept once.
 */
export class FeedbackRecorder {
  /**
   * @param store - where feedback is kept
   * @param logger - one line per item (codes and flags, never the comment)
   */
  constructor(
    private readonly store: Pick<RecordStore, 'recordFeedback'>,
    private readonly logger: Logger,
  ) {}

  /**
   * Records the items, in order; resolves how many were new. Rejects with StoreUnavailableError when the
   * store cannot be reached (the items before the failure are kept; a retry keeps each once).
   * @param service - the service id
   * @param items - validated feedback items, with an outcomeTimestamp that is an instant
   * @param receivedAt - epoch ms the feedback arrived
   */
  async record(service: string, items: readonly FeedbackItem[], receivedAt: number): Promise<number> {
    let recorded = 0;
    for (const item of items) {
      // One statement per item, so the log can say which were repeats; feedback comes an item or two at a time.
      const fresh = (await this.store.recordFeedback([feedbackRecord(service, item, receivedAt)])) > 0;
      if (fresh) {
        recorded++;
      }
      // The free-text comment may hold patient details: only whether there was one is logged.
      this.logger.info(
        {
          event: 'feedback',
          service,
          card: item.card,
          outcome: item.outcome,
          duplicate: !fresh,
          ...(item.overrideReason?.reason?.code !== undefined ? { overrideReason: item.overrideReason.reason.code } : {}),
          ...(item.acceptedSuggestions !== undefined ? { acceptedSuggestions: item.acceptedSuggestions.length } : {}),
          hasComment: typeof item.overrideReason?.userComment === 'string' && item.overrideReason.userComment.length > 0,
        },
        fresh ? 'feedback recorded' : 'feedback already recorded',
      );
    }
    return recorded;
  }
}

/**
 * A feedback item as the store keeps it.
 * @param service - the service id
 * @param item - the validated item (its outcomeTimestamp parses as an instant)
 * @param receivedAt - epoch ms it arrived
 */
export function feedbackRecord(service: string, item: FeedbackItem, receivedAt: number): FeedbackRecord {
  const reason = item.overrideReason?.reason;
  const comment = item.overrideReason?.userComment;
  return {
    service,
    cardUuid: item.card,
    outcome: item.outcome,
    outcomeAt: Date.parse(item.outcomeTimestamp),
    receivedAt,
    acceptedSuggestions: (item.acceptedSuggestions ?? []).map((s) => s.id),
    ...(reason !== undefined && (reason.code !== undefined || reason.system !== undefined)
      ? { overrideReason: { ...(reason.code !== undefined ? { code: reason.code } : {}), ...(reason.system !== undefined ? { system: reason.system } : {}) } }
      : {}),
    ...(typeof comment === 'string' && comment !== '' ? { userComment: comment } : {}),
  };
}
