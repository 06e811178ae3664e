import type { Logger } from '../logger.js';
import type { FlushResult, RecordOutcome } from './record-store.js';

/** Writes a batch in one transaction; rejects when nothing of it was committed. */
export type BatchWriter<T> = (batch: readonly T[]) => Promise<void>;

export interface WriteQueueOptions {
  /** Records held at most while the database is slow or unreachable (CDS_RECORD_QUEUE_MAX). */
  readonly max: number;
  /** How long a caller waits for its commit before it is told 'queued' (CDS_RECORD_WRITE_TIMEOUT_MS). */
  readonly writeTimeoutMs: number;
  /** Records per transaction at most. */
  readonly batchMax?: number;
  /** First retry delay after a failure; doubles up to retryMaxMs. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** How often the "records waiting" warning repeats while the queue is not empty. Default a minute. */
  readonly warnEveryMs?: number;
  readonly logger: Logger;
  /** Whether an error means the records themselves are unwritable (not the database being away). */
  readonly isPermanent: (error: unknown) => boolean;
}

interface Pending<T> {
  readonly item: T;
  /** Tells the caller what happened; called at most once. */
  settle: ((outcome: RecordOutcome) => void) | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The record's way to the database (issue #13 §4). Records that arrive while a write is in flight are
 * written together in the next transaction (group commit), so a burst costs one round of statements, not
 * one per call. When the database fails, records stay in memory, in arrival order, up to `max`; they are
 * retried with backoff and written when it answers. When the queue is full the newest record is refused
 * and its caller told 'dropped' (the callers of the ones already held were told 'queued', so those are
 * kept); refusals are counted in the warning. A warning repeats every `warnEveryMs` while records wait.
 */
export class WriteQueue<T> {
  private readonly pending: Pending<T>[] = [];
  private inFlight: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private warnTimer: ReturnType<typeof setInterval> | undefined;
  private retryDelay: number;
  private failing = false;
  private droppedSinceWarning = 0;
  private rejected = 0;
  private closed = false;

  constructor(
    private readonly write: BatchWriter<T>,
    private readonly options: WriteQueueOptions,
  ) {
    this.retryDelay = options.retryInitialMs ?? 100;
  }

  /** Records waiting, including those being written now. */
  get length(): number {
    return this.pending.length;
  }

  /** Whether the last write attempt failed and has not since succeeded. */
  get unreachable(): boolean {
    return this.failing;
  }

  /** Records refused as unwritable since start (a bug in what was handed in, logged with each). */
  get rejectedCount(): number {
    return this.rejected;
  }

  /**
   * Hands a record over. Resolves 'durable' on commit, 'queued' if the commit has not happened within the
   * write timeout (or the database is known to be down), 'dropped' if the queue is full.
   */
  add(item: T): Promise<RecordOutcome> {
    if (this.closed || this.pending.length >= this.options.max) {
      this.droppedSinceWarning++;
      this.warnNow();
      return Promise.resolve({ state: 'dropped', queued: this.pending.length });
    }
    return new Promise((resolve) => {
      const entry: Pending<T> = { item, settle: resolve, timer: undefined };
      this.pending.push(entry);
      if (this.failing) {
        // The database is known to be away: the hook does not wait for it (clinical work comes first).
        this.settle(entry, { state: 'queued', queued: this.pending.length });
      } else {
        entry.timer = setTimeout(() => this.settle(entry, { state: 'queued', queued: this.pending.length }), this.options.writeTimeoutMs);
        this.pump();
      }
    });
  }

  /**
   * Writes everything held, retrying without backoff, until the queue is empty or timeoutMs has passed.
   * @param timeoutMs - the longest wait
   */
  async flush(timeoutMs = 10_000): Promise<FlushResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && Date.now() < deadline) {
      if (this.retryTimer !== undefined) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      this.pump();
      const attempt = this.inFlight ?? Promise.resolve();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([attempt, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      if (this.failing && this.pending.length > 0) {
        await new Promise<void>((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
      }
    }
    return { remaining: this.pending.length };
  }

  /**
   * Flushes, then stops: later records are refused. What could not be written is reported and logged.
   * @param timeoutMs - the longest wait for the flush
   */
  async close(timeoutMs?: number): Promise<FlushResult> {
    const result = await this.flush(timeoutMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopWarnings();
    for (const entry of this.pending) {
      this.settle(entry, { state: 'queued', queued: this.pending.length });
    }
    if (result.remaining > 0) {
      this.options.logger.error({ event: 'record-queue-lost', queued: result.remaining }, 'records could not be written before shutdown');
    }
    if (this.inFlight) {
      await this.inFlight.catch(() => undefined);
    }
    return result;
  }

  private settle(entry: Pending<T>, outcome: RecordOutcome): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const settle = entry.settle;
    entry.settle = undefined;
    settle?.(outcome);
  }

  /** Starts a write of what is waiting, unless one is in flight or a retry is scheduled. */
  private pump(): void {
    if (this.inFlight !== undefined || this.retryTimer !== undefined || this.pending.length === 0) {
      return;
    }
    const batch = this.pending.slice(0, this.options.batchMax ?? 100);
    this.inFlight = this.writeBatch(batch).finally(() => {
      this.inFlight = undefined;
      if (!this.failing && !this.closed) {
        this.pump();
      }
    });
  }

  private async writeBatch(batch: readonly Pending<T>[]): Promise<void> {
    try {
      await this.write(batch.map((p) => p.item));
      this.committed(batch.length);
    } catch (error) {
      if (this.options.isPermanent(error)) {
        await this.writeOneByOne(batch);
      } else {
        this.failed(error);
      }
    }
  }

  /**
   * A batch the database refused as data (not as being away): written record by record, so that one bad
   * record is set aside (logged, counted) and never holds back the others.
   */
  private async writeOneByOne(batch: readonly Pending<T>[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i];
      if (entry === undefined) {
        continue;
      }
      try {
        await this.write([entry.item]);
        this.committed(1);
      } catch (error) {
        if (!this.options.isPermanent(error)) {
          this.failed(error);
          return;
        }
        this.pending.shift();
        this.rejected++;
        this.settle(entry, { state: 'dropped', queued: this.pending.length });
        this.options.logger.error(
          { event: 'record-rejected', errorName: error instanceof Error ? error.name : typeof error, ...sqlState(error) },
          'the database refused a record as invalid; it is not retried',
        );
      }
    }
  }

  /** The head of the queue (n records) is durable. */
  private committed(n: number): void {
    const done = this.pending.splice(0, n);
    for (const entry of done) {
      this.settle(entry, { state: 'durable' });
    }
    if (this.failing) {
      this.failing = false;
      this.options.logger.info({ event: 'record-queue-recovered', queued: this.pending.length }, 'the database answers again; writing the queued records');
    }
    this.retryDelay = this.options.retryInitialMs ?? 100;
    if (this.pending.length === 0) {
      this.stopWarnings();
    }
  }

  private failed(error: unknown): void {
    const first = !this.failing;
    this.failing = true;
    // Nobody waits on a database that is away: every caller still waiting is told 'queued' now.
    for (const entry of this.pending) {
      this.settle(entry, { state: 'queued', queued: this.pending.length });
    }
    if (first) {
      this.options.logger.warn(
        { event: 'record-write-failed', queued: this.pending.length, errorName: error instanceof Error ? error.name : typeof error, ...sqlState(error) },
        'the record could not be written; holding it in memory and retrying',
      );
      this.startWarnings();
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.retryMaxMs ?? 5_000);
  }

  private startWarnings(): void {
    if (this.warnTimer === undefined) {
      this.warnTimer = setInterval(() => this.warnNow(true), this.options.warnEveryMs ?? 60_000);
      this.warnTimer.unref();
    }
  }

  private stopWarnings(): void {
    clearInterval(this.warnTimer);
    this.warnTimer = undefined;
  }

  /**
   * The periodic warning; on the first refusal since the last line, one right away (the next periodic line
   * counts the refusals after it).
   */
  private warnNow(periodic = false): void {
    if (!periodic && this.droppedSinceWarning !== 1) {
      return;
    }
    if (this.pending.length === 0 && this.droppedSinceWarning === 0) {
      this.stopWarnings();
      return;
    }
    this.options.logger.warn(
      { event: 'record-queue', queued: this.pending.length, dropped: this.droppedSinceWarning },
      this.droppedSinceWarning > 0 ? 'records are waiting for the database and the queue is full: new records are refused' : 'records are waiting for the database',
    );
    this.droppedSinceWarning = 0;
    this.startWarnings();
  }
}

/** The SQLSTATE of a database error (a code, never data), for the log. */
export function sqlState(error: unknown): { code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length <= 16 ? { code } : {};
}
