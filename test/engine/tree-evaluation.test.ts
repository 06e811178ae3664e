import fc from 'fast-check';
import { decisiveUnknowns, evaluate, leafFacts, trace } from '../../src/engine/evaluate.js';
import { documented, kleeneAll, kleeneAny, kleeneNot, type Truth } from '../../src/engine/truth.js';
import type { Criterion } from '../../src/engine/criterion.js';

const FACTS = ['rf.fever', 'rf.cancer-history', 'fact.radiculopathy', 'fact.conservative-care-4wk', 'non.recent-imaging'];

/** Random criteria trees over a handful of facts, as deep as the policy's and with empty groups too. */
const trees: fc.Arbitrary<Criterion> = fc.letrec<{ tree: Criterion }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...FACTS).map((fact): Criterion => ({ kind: 'fact', fact })),
    fc.array(tie('tree'), { maxLength: 4 }).map((of): Criterion => ({ kind: 'all', of })),
    fc.array(tie('tree'), { maxLength: 4 }).map((of): Criterion => ({ kind: 'any', of })),
    tie('tree').map((of): Criterion => ({ kind: 'not', of })),
    tie('tree').map((of): Criterion => ({ kind: 'documented', of })),
  ),
})).tree;

const values = fc
  .tuple(...FACTS.map(() => fc.constantFrom<Truth | undefined>('true', 'false', 'unknown', undefined)))
  .map((vs) => new Map(FACTS.flatMap((id, i) => (vs[i] !== undefined ? [[id, vs[i]] as [string, Truth]] : []))));

/** The truth tables of SPEC §5 folded over the tree: the meaning `evaluate` must have. */
function meaning(c: Criterion, facts: ReadonlyMap<string, Truth>): Truth {
  switch (c.kind) {
    case 'all':
      return kleeneAll(c.of.map((x) => meaning(x, facts)));
    case 'any':
      return kleeneAny(c.of.map((x) => meaning(x, facts)));
    case 'not':
      return kleeneNot(meaning(c.of, facts));
    case 'documented':
      return documented(meaning(c.of, facts));
    case 'fact':
      return facts.get(c.fact) ?? 'unknown';
  }
}

describe('evaluating a criteria tree (SPEC §5, §6)', () => {
  it('any tree over any documented facts evaluates as the Kleene truth tables say, and its trace agrees', () => {
    fc.assert(
      fc.property(trees, values, (tree, facts) => {
        expect(evaluate(tree, facts)).toBe(meaning(tree, facts));
        expect(trace(tree, facts).value).toBe(meaning(tree, facts));
      }),
      { numRuns: 3_000 },
    );
  });

  it('a fact is missing exactly when it is unknown and settling it alone settles the tree', () => {
    fc.assert(
      fc.property(trees, values, (tree, facts) => {
        const expected =
          meaning(tree, facts) !== 'unknown'
            ? []
            : leafFacts(tree).filter(
                (id) =>
                  (facts.get(id) ?? 'unknown') === 'unknown' &&
                  (['true', 'false'] as const).some((v) => meaning(tree, new Map([...facts, [id, v]])) !== 'unknown'),
              );
        expect(decisiveUnknowns(tree, facts)).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
  });
});
