import type { Questionnaire } from 'fhir/r4.js';
import { DAY_MS } from '../facts/fhir-dates.js';
import type { Logger } from '../logger.js';
import type { Policy } from '../policy/policy-types.js';
import type { RecordOutcome, RecordStore } from '../store/record-store.js';
import {
  QuestionnaireStore,
  fullQuestionnaireId,
  questionnaireKindOf,
  questionnaireOfSpec,
  readQuestionnaireSpec,
  type QuestionnaireSpec,
  type QuestionnaireView,
} from './questionnaire.js';

/** A questionnaire to keep for a card's links: the determination's questionnaire id and what it is built from. */
export interface KeptQuestionnaire {
  readonly id: string;
  readonly spec: QuestionnaireSpec;
}

/** Where a call's questionnaires ended up: in the store (any replica serves them), or only in this replica. */
export type KeepOutcome = 'none' | 'shared' | 'local';

export interface SharedQuestionnairesOptions {
  /** How long re-signing waits for the store to say whether earlier questionnaires are served (the record's write timeout). */
  readonly timeoutMs: number;
  /** How long a questionnaire is served: a day (SPEC: per-order questionnaires expire after their day). */
  readonly ttlMs?: number;
  /** Questionnaires held locally at most while the store is away. */
  readonly localCapacity?: number;
  /** How often questionnaires kept only locally are offered to the store again. */
  readonly retryEveryMs?: number;
  readonly clock?: () => number;
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Per-determination questionnaires served by every replica (issue #13 §2): each is kept in the record store
 * as its spec (QuestionnaireSpec, one row per determination for both of its questionnaires) until its day is
 * over, and built for its reader when fetched. They are written with the call's record, in the same statement.
 *
 * When the record is not durable within the write timeout (database slow or away), the card must still link a
 * questionnaire someone serves: this replica keeps them in memory (bounded, a day at most) and serves them at
 * once; the record's queue writes them with the record when the database is back, and every replica serves
 * them from then on. During the outage another replica answers their links with 404 (or 503 while it cannot
 * read the store); the README says so.
 */
export class SharedQuestionnaires {
  private readonly local: QuestionnaireStore;
  /** Specs held only here, waiting for the store. */
  private readonly pending = new Map<string, { spec: QuestionnaireSpec; expiresAt: number }>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly clock: () => number;
  private readonly ttlMs: number;

  /**
   * @param store - the record store (its questionnaire table)
   * @param policy - the loaded policy the questionnaires ask under
   * @param logger - counts only
   * @param options - timeout, time to live, local capacity, retry period
   */
  constructor(
    private readonly store: Pick<RecordStore, 'putQuestionnaire' | 'getQuestionnaire'>,
    private readonly policy: Policy,
    private readonly logger: Logger,
    private readonly options: SharedQuestionnairesOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.ttlMs = options.ttlMs ?? DAY_MS;
    // Two entries per determination: its missing-facts questionnaire and the companion.
    this.local = new QuestionnaireStore(2 * (options.localCapacity ?? 1_000), this.ttlMs, this.clock);
  }

  /** Questionnaires kept only by this replica and not yet in the store. */
  get waiting(): number {
    return this.pending.size;
  }

  /** When questionnaires kept now expire (epoch ms): at the end of their day. */
  expiresAt(): number {
    return this.clock() + this.ttlMs;
  }

  /**
   * What the record store made of a call's questionnaires, which travel with its record (one statement per
   * batch of calls): 'durable', and every replica serves them; 'queued' (the database is slow or away), and
   * this replica serves them from memory until the queue writes them with the record; 'dropped' (the queue
   * is full), and this replica serves them and offers them to the store again every few seconds.
   * @param items - the call's questionnaires
   * @param state - what became of the call's record
   * @param expiresAt - when they expire (the value written with the record)
   */
  settle(items: readonly KeptQuestionnaire[], state: RecordOutcome['state'], expiresAt: number): KeepOutcome {
    if (items.length === 0) {
      return 'none';
    }
    if (state === 'durable') {
      return 'shared';
    }
    for (const q of items) {
      this.keepLocally(q.id, q.spec);
      if (state === 'dropped') {
        this.pending.set(q.id, { spec: q.spec, expiresAt });
      }
    }
    // Bounded like the local memory: the oldest waiting questionnaire, already pushed out of it, goes first.
    for (const id of this.pending.keys()) {
      if (this.pending.size <= (this.options.localCapacity ?? 1_000)) {
        break;
      }
      this.pending.delete(id);
    }
    if (this.pending.size > 0) {
      this.scheduleRetry();
    }
    return 'local';
  }

  /**
   * A determination's questionnaire for its reader: from this replica's own memory first (kept during an
   * outage), else from the store. Undefined when unknown, expired, or written under another policy version.
   * Rejects with StoreUnavailableError when the store cannot be read.
   * @param id - a questionnaire id (the missing-facts one, or its companion ending in -full)
   * @param view - who reads it
   */
  async get(id: string, view: QuestionnaireView): Promise<Questionnaire | undefined> {
    const held = this.local.get(id, view);
    if (held) {
      return held;
    }
    const { base, kind } = questionnaireKindOf(id);
    const spec = readQuestionnaireSpec(await this.store.getQuestionnaire(base));
    return spec ? questionnaireOfSpec(this.policy, base, spec, kind, view) : undefined;
  }

  /**
   * Which of these questionnaire ids are still served (re-signing renews an assertion whose questionnaire is
   * not, so DTR can fetch the form). Asked of the store within the timeout; a store that does not answer
   * counts as not serving them, so the assertion gets a fresh questionnaire this replica can serve.
   * @param ids - questionnaire ids from earlier assertions on the orders
   */
  async served(ids: readonly string[]): Promise<ReadonlySet<string>> {
    if (ids.length === 0) {
      return EMPTY;
    }
    const found = new Set(ids.filter((id) => this.local.has(id)));
    const rest = ids.filter((id) => !found.has(id));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answers = await Promise.race([
      Promise.all(
        rest.map(async (id) => {
          const { base } = questionnaireKindOf(id);
          const spec = readQuestionnaireSpec(await this.store.getQuestionnaire(base));
          return spec !== undefined && spec.policy.id === this.policy.id && spec.policy.version === this.policy.version ? id : undefined;
        }),
      ).catch(() => []),
      new Promise<(string | undefined)[]>((resolve) => {
        timer = setTimeout(() => resolve([]), this.options.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const id of answers) {
      if (id !== undefined) {
        found.add(id);
      }
    }
    return found;
  }

  /** Stops offering local questionnaires to the store (shutdown). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private keepLocally(id: string, spec: QuestionnaireSpec): void {
    const produce = (kind: 'missing' | 'full') => (view: QuestionnaireView): Questionnaire =>
      // The spec was made under the loaded policy a moment ago, so it always builds; the fallback is never used.
      questionnaireOfSpec(this.policy, id, spec, kind, view) ?? { resourceType: 'Questionnaire', status: 'retired' };
    this.local.put(id, produce('missing'));
    this.local.put(fullQuestionnaireId(id), produce('full'));
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) {
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.offerPending();
    }, this.options.retryEveryMs ?? 5_000);
    this.retryTimer.unref();
  }

  /** Offers the questionnaires kept only here to the store again, oldest first, until one fails. */
  private async offerPending(): Promise<void> {
    const now = this.clock();
    for (const [id, entry] of [...this.pending]) {
      if (entry.expiresAt <= now) {
        this.pending.delete(id);
        continue;
      }
      try {
        await this.store.putQuestionnaire(id, entry.spec, entry.expiresAt);
        this.pending.delete(id);
      } catch {
        break;
      }
    }
    if (this.pending.size > 0) {
      this.scheduleRetry();
    } else {
      this.logger.info({ event: 'questionnaire-shared', queued: 0 }, 'questionnaires kept during the outage are now in the record store');
    }
  }
}
