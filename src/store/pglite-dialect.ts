import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * A Kysely dialect over an embedded PGlite: the same query builder, compiler, adapter and migrator as the
 * PostgreSQL engine, so both engines run one code path (src/store/README.md says why this over a socket).
 * PGlite is one connection; a transaction must own it from BEGIN to COMMIT, so connections are handed out
 * one at a time, in order.
 */
export class PGliteDialect implements Dialect {
  /**
   * @param db - the PGlite instance
   * @param owned - whether destroying the dialect closes the instance (false when it is shared, as in tests)
   */
  constructor(
    private readonly db: PGlite,
    private readonly owned = true,
  ) {}

  createDriver(): Driver {
    return new PGliteDriver(this.db, this.owned);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  /** Resolves when the connection is free; each acquirer chains onto the previous one. */
  private tail: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly owned: boolean,
  ) {
    this.connection = new PGliteConnection(db);
  }

  async init(): Promise<void> {
    await this.db.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    // PGlite runs a statement synchronously inside the WASM engine and settles its promise as a microtask:
    // a chain of statements would never give timers and sockets a turn. One macrotask turn per acquisition
    // keeps the embedded engine from starving the HTTP server (a request is never blocked behind the record).
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.release = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    // Waits for the connection to be free, so an in-flight transaction is not cut.
    await this.acquireConnection();
    if (this.owned && !this.db.closed) {
      await this.db.close();
    }
    await this.releaseConnection();
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly db: PGlite) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.db.query<R>(compiled.sql, [...compiled.parameters]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not used by the store');
  }
}
