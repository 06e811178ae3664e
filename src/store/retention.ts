import type { Logger } from '../logger.js';
import type { RecordStore } from './record-store.js';

/** How often the retention cleanup runs by default: hourly (a day's records are a small batch). */
export const RETENTION_EVERY_MS = 3_600_000;

/**
 * Runs the record's retention cleanup (issue #13 §2, CDS_RECORD_RETENTION_DAYS) on an unref'd timer, so it
 * never keeps the process alive. The store deletes in bounded batches with a pause between statements, so
 * requests are never queued behind it; a run still going when the next is due is not doubled (a slow
 * cleanup over a large backlog never overlaps itself). A database that is away skips the run; the next one
 * tries again. Returns a function that stops the timer and waits for a run in progress to end.
 * @param store - the record
 * @param retentionDays - days a call's record is kept
 * @param logger - one line per run that deleted something (counts only)
 * @param options - everyMs between runs; firstAfterMs before the first (default: everyMs)
 */
export function scheduleRetention(
  store: Pick<RecordStore, 'cleanup'>,
  retentionDays: number,
  logger: Logger,
  options: { readonly everyMs?: number; readonly firstAfterMs?: number; readonly clock?: () => number } = {},
): () => Promise<void> {
  const everyMs = options.everyMs ?? RETENTION_EVERY_MS;
  const clock = options.clock ?? Date.now;
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = (): void => {
    if (running !== undefined || stopped) {
      return;
    }
    running = store
      .cleanup(clock(), retentionDays)
      .then((r) => {
        const deleted = r.invocations + r.feedback + r.questionnaires + r.jtis;
        if (deleted > 0) {
          logger.info({ event: 'record-retention', deleted }, `retention cleanup: ${r.invocations} calls, ${r.feedback} feedback items, ${r.questionnaires} questionnaires, ${r.jtis} token ids deleted`);
        }
      })
      .catch((error: unknown) => {
        logger.warn({ event: 'record-retention-failed', errorName: error instanceof Error ? error.name : typeof error }, 'retention cleanup could not run; the next run tries again');
      })
      .finally(() => {
        running = undefined;
      });
  };

  let interval: ReturnType<typeof setInterval> | undefined;
  const first = setTimeout(() => {
    runOnce();
    interval = setInterval(runOnce, everyMs);
    interval.unref();
  }, options.firstAfterMs ?? everyMs);
  first.unref();

  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(interval);
    await running;
  };
}
