import { randomBytes } from 'node:crypto';
import { Secret, type StoreConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { POSTGRES_URL, postgresAdmin } from './store-engines.js';

/**
 * The record store every test app gets: a real engine, never a mock. One per test file (jest gives each file
 * its own module registry): a fresh schema on the test PostgreSQL, created and migrated when the file first
 * uses it, dropped after the file (test/support/jest-setup.ts). An in-memory PGlite per file was measured and
 * rejected: 3 to 6 s and about 900 MB resident to create one on this machine, against a few hundred
 * milliseconds for a schema on the running PostgreSQL.
 */
class FileStore {
  readonly engine = 'postgres' as const;
  private opening: Promise<RecordStore> | undefined;
  readonly schema = `app_${randomBytes(6).toString('hex')}`;

  constructor(private readonly config: Partial<StoreConfig>) {}

  /** The store, opened on first use. */
  open(): Promise<RecordStore> {
    this.opening ??= (async () => {
      await postgresAdmin(POSTGRES_URL, `create schema ${this.schema}`);
      return createStore(testStoreConfig(this.config), silentLogger, { schema: this.schema, connectTimeoutMs: 2_000 });
    })();
    return this.opening;
  }

  get opened(): boolean {
    return this.opening !== undefined;
  }

  /** Apps share the file's store: closing is the file's business (disposeTestStore), not an app's. */
  async close(ms?: number): Promise<void> {
    await (await this.open()).flush(ms);
  }

  async dispose(): Promise<void> {
    if (this.opening === undefined) {
      return;
    }
    const store = await this.opening.catch(() => undefined);
    await store?.close(5_000);
    await postgresAdmin(POSTGRES_URL, `drop schema if exists ${this.schema} cascade`);
  }
}

/** The store configuration of a test app: the test PostgreSQL, the service's defaults otherwise. */
export function testStoreConfig(overrides: Partial<StoreConfig> = {}, url = POSTGRES_URL): StoreConfig {
  return { databaseUrl: new Secret(url), dataDir: '/nonexistent-test-data', retentionDays: 3650, queueMax: 10_000, writeTimeoutMs: 2_000, ...overrides };
}


let fileStore: FileStore | undefined;

/**
 * This test file's record store (a fresh PostgreSQL schema, opened on first use). Every method of the port that
 * the file store does not define itself is passed to the opened store, so the port can grow without this file.
 */
export function testStore(): RecordStore & { readonly schema: string } {
  fileStore ??= new FileStore({});
  const file = fileStore;
  return new Proxy(file, {
    get(target, property, receiver) {
      if (property in target) {
        return Reflect.get(target, property, receiver) as unknown;
      }
      return async (...args: unknown[]): Promise<unknown> => {
        const store = (await target.open()) as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
        return store[property]?.(...args);
      };
    },
  }) as unknown as RecordStore & { readonly schema: string };
}

/** Closes this file's store and drops its schema (run after every test file by jest-setup.ts). */
export async function disposeTestStore(): Promise<void> {
  const store = fileStore;
  fileStore = undefined;
  await store?.dispose();
}
