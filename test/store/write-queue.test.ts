import fc from 'fast-check';
import { silentLogger } from '../../src/logger.js';
import type { RecordOutcome } from '../../src/store/record-store.js';
import { WriteQueue } from '../../src/store/write-queue.js';

/**
 * The queue's contract apart from any database: a writer the test switches between "answering" and "away",
 * and that refuses one poisoned record as data (SQLSTATE 23xxx) the way PostgreSQL would.
 */
function database(poison = -1) {
  const state = { up: true, written: [] as number[], batches: [] as number[][] };
  const write = async (batch: readonly number[]): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    if (!state.up) {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }
    if (batch.includes(poison)) {
      throw Object.assign(new Error('duplicate key'), { code: '23505' });
    }
    state.batches.push([...batch]);
    state.written.push(...batch);
  };
  return { state, write };
}

const isPermanent = (e: unknown): boolean => /^23/.test(String((e as { code?: unknown }).code));

test('records handed over while the database comes and goes are each written once, in arrival order, unless refused for a full queue', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 6 }) }), fc.constant({ down: true }), fc.constant({ up: true })), { maxLength: 25 }),
      fc.integer({ min: 1, max: 12 }),
      async (steps, max) => {
        const db = database();
        const queue = new WriteQueue<number>(db.write, { max, writeTimeoutMs: 5, retryInitialMs: 1, retryMaxMs: 4, logger: silentLogger, isPermanent });
        const outcomes = new Map<number, Promise<RecordOutcome>>();
        let next = 0;
        for (const step of steps) {
          if ('add' in step) {
            for (let i = 0; i < step.add; i++) {
              outcomes.set(next, queue.add(next));
              next++;
            }
            expect(queue.length).toBeLessThanOrEqual(max);
          } else {
            db.state.up = 'up' in step;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
        db.state.up = true;
        expect(await queue.close(5_000)).toEqual({ remaining: 0 });
        const settled = await Promise.all([...outcomes].map(async ([id, p]) => [id, (await p).state] as const));
        const kept = settled.filter(([, state]) => state !== 'dropped').map(([id]) => id);
        expect(db.state.written).toEqual(kept);
      },
    ),
    { numRuns: 60 },
  );
});

test('calls arriving while a write is in flight go together in the next transaction', async () => {
  const db = database();
  const queue = new WriteQueue<number>(db.write, { max: 100, writeTimeoutMs: 1_000, logger: silentLogger, isPermanent });
  const all = Array.from({ length: 10 }, (_, i) => queue.add(i));
  expect((await Promise.all(all)).every((o) => o.state === 'durable')).toBe(true);
  // The first call starts a write at once; the nine that arrive meanwhile share the next one.
  expect(db.state.batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
});

test('a record the database refuses as data is set aside and logged, and never holds back the others', async () => {
  const db = database(3);
  const lines: string[] = [];
  const logger = { ...silentLogger, error: (fields: { event?: string }) => void lines.push(fields.event ?? '') };
  const queue = new WriteQueue<number>(db.write, { max: 100, writeTimeoutMs: 1_000, logger, isPermanent });
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => queue.add(i)));
  expect(outcomes.map((o) => o.state)).toEqual(['durable', 'durable', 'durable', 'dropped', 'durable', 'durable']);
  expect(db.state.written).toEqual([0, 1, 2, 4, 5]);
  expect(lines).toEqual(['record-rejected']);
  expect(queue.rejectedCount).toBe(1);
});

test('a caller waits no longer than the write timeout when the database is slow', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const queue = new WriteQueue<number>(() => gate, { max: 10, writeTimeoutMs: 20, logger: silentLogger, isPermanent });
  expect(await queue.add(1)).toEqual({ state: 'queued', queued: 1 });
  release();
  expect(await queue.flush(1_000)).toEqual({ remaining: 0 });
});
