// Does a PGlite commit survive kill -9? A child commits 50 rows on a data directory, reports, and is
// SIGKILLed; the parent reopens the directory and counts. Run: node bench/store-candidates/pglite-kill9.mjs
// (with @electric-sql/pglite installed in bench/store-candidates or the project). Printed [ { count: 50 } ]
// on 2026-11-30 (PGlite 0.5.17, Node 20.20.2).
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
const dir = process.argv[2];
if (process.argv[3] === 'child') {
  const db = await PGlite.create({ dataDir: dir });
  await db.exec('create table if not exists t (id int)');
  for (let i = 0; i < 50; i++) await db.query('insert into t values ($1)', [i]);
  process.send('done');
  setInterval(() => {}, 1000);
} else {
  const d = mkdtempSync(join(tmpdir(), 'crash-'));
  const child = fork(new URL(import.meta.url).pathname, [d, 'child']);
  child.on('message', async () => {
    child.kill('SIGKILL');
    child.on('exit', async () => {
      const db = await PGlite.create({ dataDir: d });
      console.log((await db.query('select count(*) from t')).rows);
      await db.close();
    });
  });
}
