import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Secret, type StoreConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createStore, type StoreOverrides } from '../../src/store/create-store.js';
import type { RecordStore } from '../../src/store/record-store.js';

/** The real PostgreSQL the suite runs against (CI starts it: .ci/run). */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type EngineName = 'postgres' | 'pglite';

/** Every store test runs on both engines. */
export const ENGINES: readonly EngineName[] = ['postgres', 'pglite'];

/**
 * One database per engine for a test file: on PostgreSQL a schema of its own (created, then dropped with
 * everything in it), on PGlite one in-memory instance with a schema per store. No test sees another's rows.
 */
export class TestDatabase {
  private pglite: PGlite | undefined;
  private readonly schemas: string[] = [];

  constructor(readonly engine: EngineName) {}

  /** A fresh, empty schema name, created on the engine. */
  async freshSchema(): Promise<string> {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    if (this.engine === 'postgres') {
      await this.admin(`create schema ${schema}`);
    }
    this.schemas.push(schema);
    return schema;
  }

  /** The configuration a store on this engine reads (DATABASE_URL set only for PostgreSQL). */
  config(overrides: Partial<StoreConfig> = {}, url = POSTGRES_URL): StoreConfig {
    return {
      ...(this.engine === 'postgres' ? { databaseUrl: new Secret(url) } : {}),
      dataDir: '/nonexistent-in-memory',
      retentionDays: 3650,
      queueMax: 10_000,
      writeTimeoutMs: 2_000,
      ...overrides,
    };
  }

  /** A store on a schema (fresh unless given), on this engine. */
  async open(options: { schema?: string; config?: Partial<StoreConfig>; url?: string; overrides?: StoreOverrides; logger?: Logger } = {}): Promise<{ store: RecordStore; schema: string }> {
    const schema = options.schema ?? (await this.freshSchema());
    if (this.engine === 'pglite') {
      this.pglite ??= await PGlite.create();
    }
    const store = await createStore(this.config(options.config, options.url), options.logger ?? silentLogger, {
      schema,
      connectTimeoutMs: 1_000,
      ...(this.pglite !== undefined ? { pglite: this.pglite } : {}),
      ...options.overrides,
    });
    return { store, schema };
  }

  /** Runs SQL as the test's administrator (PostgreSQL: its own connection; PGlite: the shared instance). */
  async admin(statement: string): Promise<void> {
    if (this.engine === 'pglite') {
      this.pglite ??= await PGlite.create();
      await this.pglite.exec(statement);
      return;
    }
    await postgresAdmin(POSTGRES_URL, statement);
  }

  /** Drops every schema made, and closes PGlite. */
  async dispose(): Promise<void> {
    if (this.engine === 'postgres') {
      for (const schema of this.schemas) {
        await this.admin(`drop schema if exists ${schema} cascade`);
      }
    }
    await this.pglite?.close();
  }
}

/** Runs one administrative statement (create or drop a schema or database) on its own connection. */
export async function postgresAdmin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
