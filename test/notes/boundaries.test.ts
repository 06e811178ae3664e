// The notes reader is a pure room (house rules): src/notes imports nothing from other src/ folders, needs no I/O,
// has no `any` and no clinical word in code. Only its command-line entry (src/notes/cli) reaches the lexicon file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../src/notes/', import.meta.url));
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
const imports = (file: string): string[] => [...readFileSync(join(dir, file), 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] ?? '');

test('the reading machinery imports only its own files', () => {
  for (const file of files.filter((f) => !f.startsWith('cli'))) {
    for (const spec of imports(file)) {
      expect([file, spec.startsWith('./') ? 'own file' : spec]).toEqual([file, 'own file']);
    }
  }
});

test('the command-line entry imports node builtins, the reader and the lexicon loader only', () => {
  for (const file of files.filter((f) => f.startsWith('cli'))) {
    for (const spec of imports(file)) {
      expect([file, spec.startsWith('node:') || spec.startsWith('../') && !spec.startsWith('../../') || spec === '../../policy/load-lexicon.js']).toEqual([file, true]);
    }
  }
});

test('no `any` in src/notes', () => {
  for (const file of files) {
    const code = readFileSync(join(dir, file), 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    expect([file, /(:\s*any\b|<any>|\bas any\b|any\[\])/.test(code)]).toEqual([file, false]);
  }
});

test('no clinical word in the reader code: the lexicon holds them', () => {
  const clinical = /\b(fever|saddle|cancer|tumou?r|sciatica|radiculopathy|ibuprofen|physical therapy|denies|mother|family history|history of|weeks?)\b/i;
  for (const file of files) {
    const code = readFileSync(join(dir, file), 'utf8')
      .replace(/\/\/.*$/gm, '')
      .replace(/\/\*[\s\S]*?\*\//g, '');
    expect([file, clinical.exec(code)?.[0] ?? 'none']).toEqual([file, 'none']);
  }
});
