import type { Logger } from '../logger.js';
import type { FeedbackItem } from './hook-request.js';

/**
 * Records CDS Hooks feedback (§Feedback). Clients may send the same feedback more than once, so each
 * (card, outcome) is recorded once; the memory of what was seen is bounded. A durable store comes later;
 * until then the structured log is the record.
 */
export class FeedbackRecorder {
  private readonly seen = new Map<string, true>();

  /**
   * @param logger - where feedback is recorded
   * @param capacity - how many (card, outcome) pairs are remembered for idempotency
   */
  constructor(
    private readonly logger: Logger,
    private readonly capacity = 100_000,
  ) {}

  /**
   * Records the items; returns how many were new.
   * @param service - the service id
   * @param items - validated feedback items
   */
  record(service: string, items: readonly FeedbackItem[]): number {
    let recorded = 0;
    for (const item of items) {
      const key = `${item.card}|${item.outcome}`;
      const duplicate = this.seen.has(key);
      if (!duplicate) {
        this.remember(key);
        recorded++;
      }
      // The free-text comment may hold patient details: only whether there was one is logged.
      this.logger.info(
        {
          event: 'feedback',
          service,
          card: item.card,
          outcome: item.outcome,
          duplicate,
          ...(item.overrideReason?.reason?.code !== undefined ? { overrideReason: item.overrideReason.reason.code } : {}),
          ...(item.acceptedSuggestions !== undefined ? { acceptedSuggestions: item.acceptedSuggestions.length } : {}),
          hasComment: typeof item.overrideReason?.userComment === 'string' && item.overrideReason.userComment.length > 0,
        },
        duplicate ? 'feedback already recorded' : 'feedback recorded',
      );
    }
    return recorded;
  }

  private remember(key: string): void {
    this.seen.set(key, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) {
        this.seen.delete(oldest);
      }
    }
  }
}
