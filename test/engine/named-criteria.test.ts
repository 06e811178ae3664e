import { childrenOf, namedCriteria, type Criterion } from '../../src/engine/criterion.js';

const fact = (f: string, id?: string): Criterion => ({ kind: 'fact', fact: f, ...(id !== undefined ? { id } : {}) });
const shared: Criterion = { kind: 'any', id: 'b.shared', of: [fact('x'), fact('y')] };
const first: Criterion = { kind: 'all', id: 'a', of: [shared, { kind: 'not', of: fact('z', 'a.z') }] };
const second: Criterion = { kind: 'documented', id: 'b', of: shared };

describe('the named criteria of a tree, for cards, the policy page and reviewers', () => {
  test('come depth first in tree order, the first tree first', () => {
    expect(namedCriteria(first, second).map((c) => c.id)).toEqual(['a', 'b.shared', 'a.z', 'b']);
  });

  test('name a criterion reached twice only once', () => {
    expect(namedCriteria(second, first).filter((c) => c.id === 'b.shared')).toHaveLength(1);
  });

  test('a fact has no children; not and documented have one; all and any have theirs', () => {
    expect(childrenOf(fact('x'))).toEqual([]);
    expect(childrenOf(second)).toEqual([shared]);
    expect(childrenOf(shared)).toHaveLength(2);
  });
});
