import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { batchedDestination, createLogger } from '../../src/logger.js';

/** Issue #12: the demo's log lines arrived in 4 KB batches, minutes late. Batching stays; a line waits at most ~1 s. */
const dir = mkdtempSync(join(tmpdir(), 'necessity-log-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function opened(file: string): Promise<DestinationStream> {
  const dest = batchedDestination(file);
  await new Promise((resolve) => (dest as unknown as NodeJS.EventEmitter).once('ready', resolve));
  return dest;
}

/** Milliseconds until the file holds `text`, or Infinity after `limitMs`. */
async function arrival(file: string, text: string, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (readFileSync(file, 'utf8').includes(text)) {
      return performance.now() - started;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

test('one quiet log line reaches its file within about a second, though far short of a 4 KB batch', async () => {
  const file = join(dir, 'quiet.log');
  const logger = createLogger('info', await opened(file));
  logger.info({ event: 'listening', port: 8080 }, 'first line');
  const ms = await arrival(file, 'first line', 3_000);
  expect(ms).toBeLessThan(1_500);
  logger.close?.();
});

test('lines are still batched: without the periodic flush the same line would wait for 4 KB', async () => {
  const file = join(dir, 'batched.log');
  const logger = createLogger('info', await opened(file), 60_000);
  logger.info({ event: 'listening', port: 8080 }, 'waiting line');
  expect(await arrival(file, 'waiting line', 1_500)).toBe(Infinity);
  logger.close?.();
  expect(await arrival(file, 'waiting line', 1_000)).toBeLessThan(1_000);
});

test('a line logged after a quiet spell also arrives within about a second', async () => {
  const file = join(dir, 'later.log');
  const logger = createLogger('info', await opened(file));
  logger.info({ event: 'request' }, 'early line');
  await arrival(file, 'early line', 2_000);
  await new Promise((r) => setTimeout(r, 1_200));
  logger.warn({ event: 'rejected', code: 'INVALID_REQUEST' }, 'late line');
  expect(await arrival(file, 'late line', 3_000)).toBeLessThan(1_500);
  logger.close?.();
});

test('closing at shutdown writes the last lines at once, before the process exits', async () => {
  const file = join(dir, 'shutdown.log');
  const logger = createLogger('info', await opened(file), 60_000);
  logger.info({ event: 'shutdown' }, 'SIGTERM: draining in-flight requests');
  logger.close?.();
  expect(readFileSync(file, 'utf8')).toContain('draining in-flight requests');
});

test('flushing while a write is in flight leaves no listener behind: a busy service flushing every second does not leak', async () => {
  const file = join(dir, 'busy.log');
  const dest = await opened(file);
  const logger = createLogger('info', dest, 5);
  const stream = dest as unknown as NodeJS.EventEmitter;
  for (let i = 0; i < 200; i++) {
    logger.info({ event: 'hook', orders: i, route: 'x'.repeat(200) }, 'busy line');
    logger.flush?.();
  }
  expect(stream.listenerCount('drain')).toBe(0);
  expect(stream.listenerCount('error')).toBeLessThanOrEqual(1);
  expect(await arrival(file, '"orders":199', 3_000)).toBeLessThan(3_000);
  logger.close?.();
});
