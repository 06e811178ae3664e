// SPEC §8.7: the read-sentence command — JSON lines in, exactly one JSON line out per line, in order.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { answerSentenceLine } from '../../src/notes/index.js';
import { lexicon } from './reader.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('one line of the sentence reader', () => {
  test("'The patient denies chest pain.' / 'chest pain' is a negated finding for the patient", () => {
    expect(JSON.parse(answerSentenceLine('{"text": "The patient denies chest pain.", "target": "chest pain"}', lexicon))).toEqual({
      found: true,
      negated: true,
      possible: false,
      hypothetical: false,
      historical: false,
      experiencer: 'patient',
    });
  });
  test("a target that is not in the text is not found: 'PT' in 'Per pt, …'", () => {
    expect(JSON.parse(answerSentenceLine('{"text": "Per pt, she has been off work for 6 weeks.", "target": "PT"}', lexicon))).toEqual({ found: false });
  });
  test('the target need not be a lexicon phrase (§8.7: whatever the lexicon)', () => {
    expect(JSON.parse(answerSentenceLine('{"text": "Mother with CHF.", "target": "CHF"}', lexicon))).toMatchObject({ found: true, experiencer: 'other' });
  });
  test('the first occurrence is the one read', () => {
    expect(JSON.parse(answerSentenceLine('{"text": "Fever today. No fever yesterday.", "target": "fever"}', lexicon))).toMatchObject({ found: true, negated: false });
  });
  test('a malformed line is answered with an error line', () => {
    expect(JSON.parse(answerSentenceLine('not json', lexicon))).toHaveProperty('error');
    expect(JSON.parse(answerSentenceLine('{"text": 3, "target": "x"}', lexicon))).toHaveProperty('error');
    expect(JSON.parse(answerSentenceLine('["a", "b"]', lexicon))).toHaveProperty('error');
    expect(JSON.parse(answerSentenceLine('', lexicon))).toHaveProperty('error');
  });
});

describe('the command', () => {
  // The command as built, without the full build: its sources transpiled into test-output (inside the project, so
  // the project root, the lexicon and node_modules are found as from dist/).
  const out = join(root, 'test-output', 'read-sentence-cli');
  beforeAll(() => {
    rmSync(out, { recursive: true, force: true });
    const sources = [
      ...readdirSync(join(root, 'src', 'notes'), { recursive: true, encoding: 'utf8' }).map((f) => join('src', 'notes', f)),
      join('src', 'policy', 'load-lexicon.ts'),
      join('src', 'project-root.ts'),
    ].filter((f) => f.endsWith('.ts'));
    for (const file of sources) {
      const js = ts.transpileModule(readFileSync(join(root, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      }).outputText;
      const target = join(out, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, js);
    }
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('answers each input line with exactly one output line, in order, and nothing else; exit 0', () => {
    const input = [
      '{"text": "No evidence of pneumonia.", "target": "pneumonia"}',
      'garbage',
      '',
      '{"text": "Her mother had breast cancer.", "target": "breast cancer"}',
      '{"text": "Call if fever develops.", "target": "fever"}',
      '{"text": "History of fevers.", "target": "fevers"}',
      '{"text": "Rule out MI.", "target": "MI"}',
      '{"text": "x", "target": "y"}',
    ];
    const run = spawnSync(process.execPath, [join(out, 'src', 'notes', 'cli', 'read-sentence.js')], { input: `${input.join('\n')}\n`, encoding: 'utf8', cwd: root });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { found: true, negated: true, possible: false, hypothetical: false, historical: false, experiencer: 'patient' },
      { error: expect.any(String) },
      { error: expect.any(String) },
      { found: true, negated: false, possible: false, hypothetical: false, historical: false, experiencer: 'other' },
      { found: true, negated: false, possible: false, hypothetical: true, historical: false, experiencer: 'patient' },
      { found: true, negated: false, possible: false, hypothetical: false, historical: true, experiencer: 'patient' },
      { found: true, negated: false, possible: true, hypothetical: false, historical: false, experiencer: 'patient' },
      { found: false },
    ]);
    expect(relative(root, out)).toBe(join('test-output', 'read-sentence-cli'));
  });
  test('a last line without a newline is answered too', () => {
    const run = spawnSync(process.execPath, [join(out, 'src', 'notes', 'cli', 'read-sentence.js')], { input: '{"text": "Denies fever", "target": "fever"}', encoding: 'utf8', cwd: root });
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { found: true, negated: true, possible: false, hypothetical: false, historical: false, experiencer: 'patient' },
    ]);
  });
});
