import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config.js';
import { loadPlans } from '../../src/crd/plans.js';

const dir = mkdtempSync(join(tmpdir(), 'plans-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('the plans this service reviews (SPEC §7.1, CDS_PLANS_FILE)', () => {
  test('the shipped file holds the evaluation’s example plan, by name and by payer identifier', () => {
    expect(loadPlans()).toEqual([
      { name: 'Example Medicare Advantage Plan', payerIdentifiers: [{ system: 'http://example.org/fhir/sid/payer-id', value: 'EXMA' }], payerNames: ['Example Medicare Advantage Plan'] },
    ]);
  });
  test('a deployment’s own file replaces it', () => {
    const path = file('ok.json', JSON.stringify({ plans: [{ name: 'Acme MA', payerNames: ['Acme Health'] }] }));
    expect(loadPlans(path)).toEqual([{ name: 'Acme MA', payerIdentifiers: [], payerNames: ['Acme Health'] }]);
  });
  test('a missing file stops the start, naming it', () => {
    expect(() => loadPlans(join(dir, 'nope.json'))).toThrow(new ConfigError(`CDS_PLANS_FILE: ${join(dir, 'nope.json')} does not exist`));
  });
  test('a file that is not JSON stops the start', () => {
    expect(() => loadPlans(file('bad.json', '{plans'))).toThrow(/is not valid JSON/);
  });
  test('a plan that nothing identifies stops the start, naming the plan', () => {
    expect(() => loadPlans(file('none.json', JSON.stringify({ plans: [{ name: 'Nobody' }] })))).toThrow(/plans\.0 needs at least one payer identifier or payer name/);
  });
  test('an empty plan list stops the start', () => {
    expect(() => loadPlans(file('empty.json', JSON.stringify({ plans: [] })))).toThrow(ConfigError);
  });
});
