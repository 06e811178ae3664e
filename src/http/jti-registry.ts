import type { Logger } from '../logger.js';
import type { RecordStore } from '../store/record-store.js';

/**
 * Where the `jti` of every client JWT accepted is remembered until its token expires (CDS Hooks 2.0.1
 * §Trusting CDS Clients: "used to protect against replay attacks").
 */
export interface JtiRegistry {
  /**
   * True when this (issuer, jti) had not been seen, or only under a token that has since expired; the jti is
   * then remembered until `expiresAt`.
   * @param issuer - the verified issuer
   * @param jti - the token's id
   * @param expiresAt - epoch ms after which the token is refused anyway (its exp plus the clock tolerance)
   * @param now - epoch ms
   */
  claim(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
}

/** One process's memory of the jtis it accepted: enough for one replica, and the first line of every other registry. */
export class LocalJtiRegistry implements JtiRegistry {
  /** issuer NUL jti → epoch ms after which it may be forgotten. */
  private readonly seen = new Map<string, number>();

  /** How many jtis are remembered. */
  get size(): number {
    return this.seen.size;
  }

  claim(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return Promise.resolve(this.claimNow(issuer, jti, expiresAt, now));
  }

  /** The same, synchronously. */
  claimNow(issuer: string, jti: string, expiresAt: number, now: number): boolean {
    const key = `${issuer}\u0000${jti}`;
    const until = this.seen.get(key);
    if (until !== undefined && until >= now) {
      return false;
    }
    this.seen.set(key, expiresAt);
    // Forgets expired ones now and then, so the map holds about one token lifetime of calls.
    if (this.seen.size > 10_000 && this.seen.size % 1_000 === 0) {
      for (const [k, e] of this.seen) {
        if (e < now) {
          this.seen.delete(k);
        }
      }
    }
    return true;
  }
}

export interface SharedJtiOptions {
  /** How long a call waits for the database before the replica decides alone (the record's write timeout). */
  readonly timeoutMs: number;
  /** jtis accepted during an outage, held to be written when the database is back. */
  readonly pendingMax?: number;
  /** How often the "deciding alone" warning may repeat. */
  readonly warnEveryMs?: number;
  /** After the database failed to answer, how long calls decide alone without asking it (default 1 s). */
  readonly backOffMs?: number;
}

/**
 * A jti is accepted once across every replica (issue #13 §2): claimed in the record store's jti table in one
 * statement, so two replicas racing on the same token cannot both win. This replica's own memory answers
 * first, so a replay to the same replica is refused without a round trip and even while the database is away.
 *
 * When the database does not answer within the timeout, the replica accepts a jti it has not seen itself
 * (fails open) and says so in the log: clinical work comes first, and a token that passed every other check
 * (signature of a trusted issuer, audience, expiry) is refused only if the same replica saw it. The risk is a
 * captured token replayed to another replica within its lifetime (minutes) during an outage; the README
 * states it. Those jtis are written to the store when it answers again, so from then on every replica
 * refuses them, and one that another replica had also accepted meanwhile is logged as a replay
 * (`jti-replayed`).
 */
export class SharedJtiRegistry implements JtiRegistry {
  private readonly local = new LocalJtiRegistry();
  private readonly pending = new Map<string, { issuer: string; jti: string; expiresAt: number }>();
  private lastWarning = 0;
  /** Until when (epoch ms) the database is not asked: it just failed to answer in time. */
  private awayUntil = 0;
  private unsharedSinceWarning = 0;
  private writing: Promise<void> | undefined;

  /**
   * @param store - the record store (its jti table)
   * @param logger - counts and events, never tokens or jtis
   * @param options - timeout and bounds
   */
  constructor(
    private readonly store: Pick<RecordStore, 'claimJti'>,
    private readonly logger: Logger,
    private readonly options: SharedJtiOptions,
  ) {}

  /** jtis accepted while the database was away and not yet written. */
  get waiting(): number {
    return this.pending.size;
  }

  async claim(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    if (!this.local.claimNow(issuer, jti, expiresAt, now)) {
      return false;
    }
    if (now < this.awayUntil) {
      // The database just failed to answer: calls do not each wait the timeout for it again (at most one a second does).
      this.remember(issuer, jti, expiresAt, now);
      return true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const claiming = this.store.claimJti(issuer, jti, expiresAt).then(
      (claimed): 'claimed' | 'replayed' => (claimed ? 'claimed' : 'replayed'),
      (): 'away' => 'away',
    );
    const answer = await Promise.race([
      claiming,
      new Promise<'away'>((resolve) => {
        timer = setTimeout(() => resolve('away'), this.options.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    switch (answer) {
      case 'claimed':
        if (this.pending.size > 0) {
          this.writePending();
        }
        return true;
      case 'replayed':
        return false;
      case 'away':
        this.awayUntil = now + (this.options.backOffMs ?? 1_000);
        this.remember(issuer, jti, expiresAt, now);
        // A statement that answers after the timeout still counts: claimed, nothing is left to write; refused, the
        // token had been accepted by another replica, a replay seen late.
        void claiming.then((late) => {
          if (late !== 'away' && this.pending.delete(`${issuer}\u0000${jti}`) && late === 'replayed') {
            this.logger.warn({ event: 'jti-replayed', issuer }, 'a client token accepted while the record store was slow had also been accepted by another replica');
          }
        });
        return true;
    }
  }

  private remember(issuer: string, jti: string, expiresAt: number, now: number): void {
    this.pending.set(`${issuer}\u0000${jti}`, { issuer, jti, expiresAt });
    for (const key of this.pending.keys()) {
      if (this.pending.size <= (this.options.pendingMax ?? 10_000)) {
        break;
      }
      this.pending.delete(key);
    }
    this.unsharedSinceWarning++;
    if (now - this.lastWarning >= (this.options.warnEveryMs ?? 60_000)) {
      this.lastWarning = now;
      this.logger.warn(
        { event: 'jti-unshared', queued: this.pending.size, dropped: this.unsharedSinceWarning },
        'the record store did not answer: client token ids are checked by this replica alone until it does',
      );
      this.unsharedSinceWarning = 0;
    }
  }

  /** Writes the jtis accepted during the outage, one writer at a time; a jti another replica also accepted is a replay seen late. */
  private writePending(): void {
    if (this.writing !== undefined) {
      return;
    }
    this.writing = (async () => {
      for (const [key, p] of [...this.pending]) {
        if (p.expiresAt < Date.now()) {
          this.pending.delete(key);
          continue;
        }
        let claimed: boolean;
        try {
          claimed = await this.store.claimJti(p.issuer, p.jti, p.expiresAt);
        } catch {
          return;
        }
        this.pending.delete(key);
        if (!claimed) {
          this.logger.warn({ event: 'jti-replayed', issuer: p.issuer }, 'a client token accepted during the outage had also been accepted by another replica');
        }
      }
    })().finally(() => {
      this.writing = undefined;
    });
  }
}
