import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { StoreConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { RecordStore } from './record-store.js';
import type { Database } from './schema.js';
import { SqlRecordStore, migrate, type SqlStoreOptions } from './sql-store.js';

/** What tests and benchmarks may set beyond the configuration. */
export interface StoreOverrides extends Partial<Pick<SqlStoreOptions, 'clock' | 'retryInitialMs' | 'retryMaxMs' | 'warnEveryMs' | 'cleanupBatch' | 'cleanupPauseMs'>> {
  /** The schema holding the tables (default public); tests give each file its own. */
  readonly schema?: string;
  /** PGlite only: keep the database in memory instead of under dataDir. */
  readonly inMemory?: boolean;
  /** PGlite only: an instance to use (and leave open on close), so tests share one per file. */
  readonly pglite?: PGlite;
  /** PostgreSQL only: connections at most (default 10). */
  readonly poolMax?: number;
  /** PostgreSQL only: how long to wait for a connection before calling the database unreachable (default 2000). */
  readonly connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the record: PostgreSQL when DATABASE_URL is set, else the embedded PGlite under NECESSITY_DATA_DIR
 * (one process only: replicas share a PostgreSQL). Applies pending migrations before answering, so a store
 * that opens is a store whose tables are current. Rejects when the database cannot be reached at start:
 * the service then refuses to start rather than run without its record.
 * @param config - the store configuration
 * @param logger - for the queue's warnings and the start-up line (never the URL)
 * @param overrides - schema, in-memory PGlite, queue timings (tests)
 */
export async function createStore(config: StoreConfig, logger: Logger, overrides: StoreOverrides = {}): Promise<RecordStore> {
  const schema = overrides.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error('schema must be a lower-case SQL identifier');
  }
  const engine: RecordStore['engine'] = config.databaseUrl !== undefined ? 'postgres' : 'pglite';
  const db = config.databaseUrl !== undefined ? postgres(config.databaseUrl.reveal(), schema, logger, overrides) : await pglite(config.dataDir, schema, overrides);
  try {
    const applied = await migrate(db, schema);
    logger.info({ event: 'store-ready', engine, migrations: applied }, applied.length > 0 ? 'record store ready; migrations applied' : 'record store ready');
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  return new SqlRecordStore(db, {
    engine,
    logger,
    queueMax: config.queueMax,
    writeTimeoutMs: config.writeTimeoutMs,
    ...pick(overrides),
  });
}

function pick(o: StoreOverrides): Partial<SqlStoreOptions> {
  const out: { -readonly [K in keyof SqlStoreOptions]?: SqlStoreOptions[K] } = {};
  if (o.clock !== undefined) out.clock = o.clock;
  if (o.retryInitialMs !== undefined) out.retryInitialMs = o.retryInitialMs;
  if (o.retryMaxMs !== undefined) out.retryMaxMs = o.retryMaxMs;
  if (o.warnEveryMs !== undefined) out.warnEveryMs = o.warnEveryMs;
  if (o.cleanupBatch !== undefined) out.cleanupBatch = o.cleanupBatch;
  if (o.cleanupPauseMs !== undefined) out.cleanupPauseMs = o.cleanupPauseMs;
  return out;
}

function postgres(url: string, schema: string, logger: Logger, overrides: StoreOverrides): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: overrides.poolMax ?? 10,
    // An unreachable database must fail fast: the hook's record then waits in the queue.
    connectionTimeoutMillis: overrides.connectTimeoutMs ?? 2_000,
    idleTimeoutMillis: 30_000,
    // A statement stuck behind a dead network fails rather than holding the queue forever.
    query_timeout: 15_000,
    statement_timeout: 10_000,
    keepAlive: true,
    application_name: 'necessity',
    options: `-c search_path=${schema}`,
  });
  // A connection the server or network drops (restart, failover) emits 'error' on its client: the pool
  // listens only while the client is idle, and an 'error' nobody listens to ends the process. Every client
  // gets a listener for its whole life; the statement in flight is failed by pg itself and the queue retries.
  const lost = (error: Error): void => {
    logger.warn({ event: 'store-connection-lost', engine: 'postgres', errorName: error.name }, 'a database connection was closed');
  };
  pool.on('error', lost);
  pool.on('connect', (client) => {
    client.on('error', lost);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

async function pglite(dataDir: string, schema: string, overrides: StoreOverrides): Promise<Kysely<Database>> {
  let db: PGlite;
  if (overrides.pglite !== undefined) {
    db = overrides.pglite;
  } else if (overrides.inMemory === true) {
    db = await PGlite.create();
  } else {
    const dir = resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    db = await PGlite.create({ dataDir: dir });
  }
  const kysely = new Kysely<Database>({ dialect: new PGliteDialect(db, overrides.pglite === undefined) });
  if (schema !== 'public') {
    // PGlite is one session: the search path set here holds for every later statement.
    await sql`create schema if not exists ${sql.id(schema)}`.execute(kysely);
    await sql`set search_path to ${sql.id(schema)}`.execute(kysely);
  }
  return kysely;
}
