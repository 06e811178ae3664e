// policy/notes-lexicon.json: valid against its schema, compiled, and holding every entry the SPEC lists (§8.2,
// §8.3, §8.5, §8.6 — "a service may add …; it may not leave any out"). Broken lexicons are refused, naming the entry.
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { compileLexicon, LexiconError } from '../../src/notes/index.js';

const read = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const lexiconData = read('../../policy/notes-lexicon.json') as Record<string, unknown>;
const schema = read('../../policy/notes-lexicon.schema.json') as object;
const spec = readFileSync(new URL('../../policy/SPEC.md', import.meta.url), 'utf8');

interface Listed {
  spec: string[];
  added?: string[];
}
interface Data {
  sections: { groups: { effect: string; headers: Listed }[] };
  context: { triggers: { category: string; direction: string; maxWords?: number; phrases: Listed }[]; termination: Listed; pseudo: Listed };
  phraseSets: Record<string, { phrases: Listed; negating?: Listed; notCounted?: Listed; alsoPossibleFrom?: string[]; restricted?: boolean }>;
  care: { modalities: Listed; units: { spec: Record<string, number> }; numbers: { spec: Record<string, number> }; connectors: Listed; months: { spec: Record<string, number> } };
  negatingCopulas: { lastWords: Listed; copulas: Listed };
}
const data = lexiconData as unknown as Data;
const norm = (s: string): string => s.toLowerCase().replace(/[\s\-/]+/g, ' ').trim();
const specOf = (l: Listed | undefined): Set<string> => new Set((l?.spec ?? []).map(norm));
const split = (cell: string): string[] =>
  cell
    .split(',')
    .map((s) => s.replace(/`/g, '').trim())
    .filter((s) => s !== '');

/** The rows of the markdown table that follows a heading line containing `after`. */
function tableAfter(after: string, first: string): string[][] {
  const from = spec.indexOf(after);
  const lines = spec
    .slice(from)
    .split('\n')
    .map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith(`| ${first}`));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) {
      break;
    }
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

describe('the shipped lexicon', () => {
  test('matches its JSON schema', () => {
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(lexiconData) ? [] : validate.errors).toEqual([]);
  });
  test('compiles', () => {
    expect(compileLexicon(lexiconData).sets.length).toBeGreaterThan(25);
  });
  test('every addition is explained', () => {
    const lists: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        v.forEach(walk);
      } else if (typeof v === 'object' && v !== null) {
        const o = v as Record<string, unknown>;
        if ('added' in o) {
          lists.push(o);
        }
        Object.values(o).forEach(walk);
      }
    };
    walk(lexiconData);
    expect(lists.length).toBeGreaterThan(20);
    for (const l of lists) {
      expect(typeof (l as { why?: unknown }).why).toBe('string');
    }
  });
});

describe('the lexicon holds every SPEC entry', () => {
  test('§8.2 section headers, each with its effect', () => {
    const effects: Record<string, string> = {
      'experiencer *other*': 'other',
      '*historical*': 'historical',
      '*hypothetical*': 'hypothetical',
      'none (they end the section before them)': 'none',
    };
    const rows = tableAfter('### 8.2', 'headers').slice(2);
    expect(rows).toHaveLength(4);
    for (const [headers, effect] of rows as [string, string][]) {
      const group = data.sections.groups.find((g) => g.effect === effects[effect] && specOf(g.headers).has(norm(split(headers)[0] ?? '')));
      expect(group).toBeDefined();
      for (const h of split(headers)) {
        expect([effect, specOf(group?.headers).has(norm(h)) ? h : `missing ${h}`]).toEqual([effect, h]);
      }
    }
  });
  test('§8.3 triggers by category and direction, with the reach limits', () => {
    const rows = tableAfter('### 8.3', 'category').slice(2);
    expect(rows.map((r) => r[0])).toEqual(['negated', 'possible', 'hypothetical', 'historical', 'other']);
    for (const [category, forward, backward] of rows as [string, string, string][]) {
      for (const [direction, cell] of [
        ['forward', forward],
        ['backward', backward.replace(/\(these two only.*$/, '')],
      ] as const) {
        const listed = new Set(data.context.triggers.filter((g) => g.category === category && (g.direction === direction || g.direction === 'both')).flatMap((g) => [...specOf(g.phrases)]));
        for (const t of split(cell)) {
          expect([category, direction, listed.has(norm(t)) ? t : `missing ${t}`]).toEqual([category, direction, t]);
        }
      }
    }
    const reach4 = data.context.triggers.find((g) => g.category === 'historical' && g.maxWords === 4);
    expect([...specOf(reach4?.phrases)].sort()).toEqual(['previous', 'prior', 's p', 'status post']);
    expect((lexiconData.context as { backwardMaxWords: number }).backwardMaxWords).toBe(5);
  });
  test('§8.3 termination terms and pseudo-triggers', () => {
    const rows = tableAfter('### 8.3', 'kind').slice(2) as [string, string][];
    const termination = rows.find((r) => r[0] === 'termination')?.[1] ?? '';
    const pseudo = rows.find((r) => r[0].startsWith('pseudo'))?.[1] ?? '';
    for (const t of split(termination)) {
      expect(specOf(data.context.termination).has(norm(t)) ? t : `missing ${t}`).toBe(t);
    }
    for (const t of split(pseudo)) {
      expect(specOf(data.context.pseudo).has(norm(t)) ? t : `missing ${t}`).toBe(t);
    }
  });
  test('§8.5 phrases, negating phrases and not-counted phrases of every fact', () => {
    const rows = tableAfter('### 8.5', 'fact').slice(2) as [string, string, string, string, string][];
    expect(rows.length).toBe(29);
    for (const [fact, , , phrasesCell, negatingCell] of rows) {
      let name = (/`([^`]+)`/.exec(fact) ?? [])[1] ?? '';
      if (fact.includes('minor injury part')) {
        name += '#minor-injury';
      } else if (fact.includes('osteoporosis part')) {
        name += '#osteoporosis';
      }
      const set = data.phraseSets[name];
      expect(set === undefined ? `missing set ${name}` : name).toBe(name);
      const [found, notCounted = ''] = phrasesCell.replace(/; also each counted.*$/, '').split(/\.? Not counted(?: \([^)]*\))?: /);
      for (const p of split(found ?? '')) {
        expect([name, specOf(set?.phrases).has(norm(p)) ? p : `missing ${p}`]).toEqual([name, p]);
      }
      for (const p of split(notCounted)) {
        expect([name, specOf(set?.notCounted).has(norm(p)) ? p : `missing not-counted ${p}`]).toEqual([name, p]);
      }
      for (const p of split(negatingCell)) {
        expect([name, specOf(set?.negating).has(norm(p)) ? p : `missing negating ${p}`]).toEqual([name, p]);
      }
    }
    expect(data.phraseSets['rf.suspected-tumor']?.alsoPossibleFrom).toEqual(['rf.cancer-history']);
    expect(Object.entries(data.phraseSets).filter(([, s]) => s.restricted === true).map(([n]) => n)).toEqual(['fact.ct-inconclusive', 'fact.indeterminate-prior-finding']);
  });
  test('§8.6 modalities, with every ingredient name of §4.1', () => {
    const line = /- Modalities: ([^\n]*(?:\n {2}[^\n]*)*)/.exec(spec.slice(spec.indexOf('### 8.6')))?.[1] ?? '';
    const named = split(line.replace(/\s+/g, ' ').replace(/, and each ingredient name.*$/, ''));
    expect(named.length).toBeGreaterThan(20);
    const s41 = spec.slice(spec.indexOf('NSAIDs ibuprofen 5640'), spec.indexOf('nortriptyline 7531') + 20);
    const ingredients = [...s41.matchAll(/([a-z]+)\s+\d{3,6}\b/g)].map((m) => m[1] ?? '');
    expect(ingredients).toHaveLength(26);
    expect(ingredients).toContain('ibuprofen');
    expect(ingredients).toContain('nortriptyline');
    for (const m of [...named, ...ingredients]) {
      expect(specOf(data.care.modalities).has(norm(m)) ? m : `missing ${m}`).toBe(m);
    }
  });
  test('§8.6 numbers, units, connectors and months', () => {
    expect(Object.keys(data.care.numbers.spec)).toEqual(['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'a', 'an']);
    expect(data.care.units.spec).toEqual({ day: 1, days: 1, week: 7, weeks: 7, wk: 7, wks: 7, month: 30, months: 30, mo: 30, mos: 30 });
    expect(data.care.connectors.spec).toEqual(['for', 'x', 'over', 'over the past', 'for the past', 'for about']);
    expect(Object.keys(data.care.months.spec)).toHaveLength(12);
  });
  test('§8.2 negating phrases with is/are/was/remains before intact/normal/unchanged', () => {
    expect(data.negatingCopulas.lastWords.spec).toEqual(['intact', 'normal', 'unchanged']);
    expect(data.negatingCopulas.copulas.spec).toEqual(['is', 'are', 'was', 'remains']);
  });
});

describe('a broken lexicon is refused, naming the entry at fault', () => {
  const broken = (edit: (d: Record<string, any>) => void): unknown => {
    const copy = JSON.parse(JSON.stringify(lexiconData)) as Record<string, any>;
    edit(copy);
    return copy;
  };
  const whereOf = (d: unknown): string => {
    try {
      compileLexicon(d);
    } catch (e) {
      if (e instanceof LexiconError) {
        return e.where;
      }
      throw e;
    }
    return 'compiled';
  };
  test('not an object', () => {
    expect(whereOf(null)).toBe('lexicon');
    expect(whereOf([])).toBe('lexicon');
  });
  test('a phrase set without phrases', () => {
    expect(whereOf(broken((d) => delete d.phraseSets['rf.fever'].phrases))).toBe('phraseSets["rf.fever"].phrases');
  });
  test('a phrase that is not a string', () => {
    expect(whereOf(broken((d) => d.phraseSets['rf.chills'].phrases.spec.push(42)))).toBe('phraseSets["rf.chills"].phrases.spec[3]');
  });
  test('a phrase listed twice in one set (spelled with a hyphen the second time)', () => {
    expect(whereOf(broken((d) => d.phraseSets['rf.chills'].phrases.added.push('shaking-chills')))).toBe('phraseSets["rf.chills"].phrases');
  });
  test('an addition without its reason', () => {
    expect(whereOf(broken((d) => delete d.phraseSets['rf.chills'].phrases.why))).toBe('phraseSets["rf.chills"].phrases.why');
  });
  test('an addition already in the SPEC list', () => {
    expect(whereOf(broken((d) => d.phraseSets['rf.chills'].phrases.added.push('Rigors')))).toBe('phraseSets["rf.chills"].phrases.added[1]');
  });
  test('an unknown entry (a typo)', () => {
    expect(whereOf(broken((d) => (d.phraseSets['rf.fever'].negatng = { spec: [] })))).toBe('phraseSets["rf.fever"].negatng');
  });
  test('an unknown trigger category', () => {
    expect(whereOf(broken((d) => (d.context.triggers[0].category = 'denied')))).toBe('context.triggers[0].category');
  });
  test('a trigger listed twice for one direction (in two groups)', () => {
    const reach4 = data.context.triggers.findIndex((g) => g.category === 'historical' && g.maxWords === 4);
    expect(whereOf(broken((d) => d.context.triggers[reach4].phrases.added.push('history of')))).toBe(`context.triggers[${reach4}].phrases`);
  });
  test("a ': x' form listed as a forward trigger", () => {
    expect(whereOf(broken((d) => d.context.triggers[0].phrases.added.push(': never')))).toBe('context.triggers[0].phrases');
  });
  test('alsoPossibleFrom naming no set', () => {
    expect(whereOf(broken((d) => (d.phraseSets['rf.suspected-tumor'].alsoPossibleFrom = ['rf.cancer'])))).toBe('phraseSets["rf.suspected-tumor"].alsoPossibleFrom[0]');
  });
  test('a care blocking set naming no set', () => {
    expect(whereOf(broken((d) => (d.care.blockingSets = ['fact.back-pain'])))).toBe('care.blockingSets[0]');
  });
  test('a unit of zero days', () => {
    expect(whereOf(broken((d) => (d.care.units.spec.week = 0)))).toBe('care.units.spec.week');
  });
  test('a multi-word unit', () => {
    expect(whereOf(broken((d) => (d.care.units.added['fort night'] = 14)))).toBe('care.units.added.fort night');
  });
  test('the schema names the same entries for an editor', () => {
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(broken((d) => (d.phraseSets['rf.fever'].negatng = { spec: [] })))).toBe(false);
    expect(validate(broken((d) => (d.context.triggers[0].direction = 'sideways')))).toBe(false);
    expect(validate.errors?.[0]?.instancePath).toBe('/context/triggers/0/direction');
  });
});
