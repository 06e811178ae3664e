import { decide, decisionOf } from '../../src/engine/decide.js';
import { decisiveUnknowns } from '../../src/engine/evaluate.js';
import type { Truth } from '../../src/engine/truth.js';
import type { Criterion } from '../../src/engine/criterion.js';
import { loadPolicy } from '../../src/policy/load-policy.js';

const fact = (id: string): Criterion => ({ kind: 'fact', fact: id });
const values = (entries: Record<string, Truth>): Map<string, Truth> => new Map(Object.entries(entries));

describe('the decision rule (SPEC §6)', () => {
  test.each([
    ['true', 'false', 'meets-criteria'],
    ['true', 'true', 'does-not-meet-criteria'],
    ['false', 'false', 'does-not-meet-criteria'],
    ['false', 'unknown', 'does-not-meet-criteria'],
    ['unknown', 'true', 'does-not-meet-criteria'],
    ['unknown', 'false', 'documentation-needed'],
    ['true', 'unknown', 'documentation-needed'],
    ['unknown', 'unknown', 'documentation-needed'],
  ] as [Truth, Truth, string][])('indications %s and non-indications %s give %s', (ind, non, decision) => {
    expect(decisionOf(ind, non)).toBe(decision);
  });
});

describe('missing: the questions worth asking (SPEC §6)', () => {
  test('a fact that alone can settle an unknown ANY is missing', () => {
    const tree: Criterion = { kind: 'any', of: [fact('a'), fact('b')] };
    expect(decisiveUnknowns(tree, values({ a: 'unknown', b: 'false' }))).toEqual(['a']);
  });
  test('in ALL(a, b) with both unknown, each alone can make it false, so both are missing', () => {
    const tree: Criterion = { kind: 'all', of: [fact('a'), fact('b')] };
    expect(decisiveUnknowns(tree, values({ a: 'unknown', b: 'unknown' }))).toEqual(['a', 'b']);
  });
  test('a fact that cannot settle the tree alone is not missing', () => {
    // ANY(ALL(a, b), c) with a, b unknown and c unknown: c=true settles it; a alone cannot.
    const tree: Criterion = { kind: 'any', of: [{ kind: 'all', of: [fact('a'), fact('b')] }, fact('c')] };
    expect(decisiveUnknowns(tree, values({ a: 'unknown', b: 'unknown', c: 'unknown' }))).toEqual(['c']);
  });
  test('a known tree has nothing missing', () => {
    const tree: Criterion = { kind: 'any', of: [fact('a'), fact('b')] };
    expect(decisiveUnknowns(tree, values({ a: 'true', b: 'unknown' }))).toEqual([]);
  });

  const { policy } = loadPolicy();
  const allFacts = (overrides: Record<string, Truth>): Map<string, Truth> => {
    const m = new Map<string, Truth>(policy.facts.map((f) => [f.id, f.basis === 'ask' ? 'unknown' : 'false']));
    for (const [k, v] of Object.entries(overrides)) {
      m.set(k, v);
    }
    return m;
  };

  test('plain low back pain: conservative care and the ask-only red flags are missing, surgery is not', () => {
    const outcome = decide(policy, allFacts({ 'fact.back-symptoms': 'true', 'fact.ct-inconclusive': 'false' }));
    expect(outcome.decision).toBe('documentation-needed');
    expect([...outcome.missing].sort()).toEqual(
      ['fact.conservative-care-4wk', 'rf.anal-sphincter-laxity', 'rf.night-pain-supine', 'rf.perianal-sensory-loss', 'rf.saddle-anesthesia', 'rf.suspected-tumor'].sort(),
    );
  });
  test('a documented red flag meets criteria with nothing missing', () => {
    const outcome = decide(policy, allFacts({ 'rf.fever': 'true', 'fact.ct-inconclusive': 'false' }));
    expect(outcome.decision).toBe('meets-criteria');
    expect(outcome.missing).toEqual([]);
    expect(outcome.satisfiedCriteria).toContain('ind.red-flag');
  });
  test('a failed-conservative-care patient meets criteria without anyone answering the ask-only red flags', () => {
    const outcome = decide(policy, allFacts({ 'fact.conservative-care-4wk': 'true', 'fact.ct-inconclusive': 'false' }));
    expect(outcome.decision).toBe('meets-criteria');
    expect(outcome.satisfiedCriteria).toContain('ind.conservative-failure');
  });
});
