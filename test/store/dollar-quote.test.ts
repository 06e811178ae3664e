import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { dollarQuoted } from '../../src/store/create-store.js';

/**
 * The embedded engine's record insert passes its JSON as dollar-quoted literals (EXECUTE takes no bind
 * parameters): whatever a response holds — quotes, dollar signs, text that looks like a tag — must come back
 * exactly as it went in.
 */
let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
}, 60_000);
afterAll(async () => {
  await db.close();
});

test('the tag never occurs inside the quoted text, which sits between two copies of it', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const quoted = dollarQuoted(s);
      const tag = /^\$q[0-9a-f]{12}\$/.exec(quoted)?.[0] ?? '';
      expect(tag).not.toBe('');
      expect(quoted).toBe(`${tag}${s}${tag}`);
      expect(s.includes(tag)).toBe(false);
    }),
  );
});

test('any JSON text, quoted so, is read back by PostgreSQL exactly as written', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.constant("it's $$ $q0123456789ab$ '' \\ $tag$")), async (s) => {
      const json = JSON.stringify({ text: s, nested: [s, { s }] });
      const { rows } = await db.query<{ v: string }>(`select ${dollarQuoted(json)}::json::text as v`);
      expect(rows[0]?.v).toBe(json);
    }),
    { numRuns: 200 },
  );
});
