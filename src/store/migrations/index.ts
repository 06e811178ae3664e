import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-record.js';
import * as m0002 from './0002-dashboard.js';
import * as m0003 from './0003-toast-compression.js';

/**
 * The versioned migrations, in order. Listed here rather than read from the folder at run time, so the
 * compiled service, the tests (ts-jest) and the benchmark find exactly the same set.
 */
const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-record': m0001,
  '0002-dashboard': m0002,
  '0003-toast-compression': m0003,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
};
