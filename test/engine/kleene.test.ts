import { documented, kleeneAll, kleeneAny, kleeneNot, type Truth } from '../../src/engine/truth.js';

const T: Truth = 'true';
const F: Truth = 'false';
const U: Truth = 'unknown';

describe('Kleene three-valued logic (SPEC §5)', () => {
  test.each([
    [[T, T], T],
    [[T, U], U],
    [[T, F], F],
    [[U, U], U],
    [[U, F], F],
    [[F, F], F],
    [[], T],
  ] as [Truth[], Truth][])('ALL of %j is %s', (values, expected) => {
    expect(kleeneAll(values)).toBe(expected);
  });

  test.each([
    [[T, T], T],
    [[T, U], T],
    [[T, F], T],
    [[U, U], U],
    [[U, F], U],
    [[F, F], F],
    [[], F],
  ] as [Truth[], Truth][])('ANY of %j is %s', (values, expected) => {
    expect(kleeneAny(values)).toBe(expected);
  });

  test('NOT swaps true and false and leaves unknown unknown', () => {
    expect([T, F, U].map(kleeneNot)).toEqual([F, T, U]);
  });

  test('an unknown red flag is not a documented red flag', () => {
    expect([T, F, U].map(documented)).toEqual([T, F, F]);
  });
});
