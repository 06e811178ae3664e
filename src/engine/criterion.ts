/**
 * The criteria tree the engine evaluates (SPEC §5): a tagged union of Kleene connectives over named facts.
 * It belongs to the engine, which knows nothing clinical; a policy builds such trees from its data.
 */
/** A criterion of the tree (SPEC §5), a tagged union evaluated in Kleene logic. */
export type Criterion = AllCriterion | AnyCriterion | NotCriterion | DocumentedCriterion | FactCriterion;

interface Labelled {
  /** Public id (`ind.*`, `non.*`) when the criterion is named in the policy. */
  readonly id?: string;
  /** Short plain-words label for cards. */
  readonly label?: string;
  /** The policy clause the criterion implements. */
  readonly clause?: string;
}

export interface AllCriterion extends Labelled {
  readonly kind: 'all';
  readonly of: readonly Criterion[];
}

export interface AnyCriterion extends Labelled {
  readonly kind: 'any';
  readonly of: readonly Criterion[];
}

export interface NotCriterion extends Labelled {
  readonly kind: 'not';
  readonly of: Criterion;
}

/** True when the child is definitely true, false otherwise: closes the world (SPEC §3 "documented"). */
export interface DocumentedCriterion extends Labelled {
  readonly kind: 'documented';
  readonly of: Criterion;
}

export interface FactCriterion extends Labelled {
  readonly kind: 'fact';
  readonly fact: string;
}

/** The direct children of a criterion, for walks over the tree. */
export function childrenOf(criterion: Criterion): readonly Criterion[] {
  switch (criterion.kind) {
    case 'all':
    case 'any':
      return criterion.of;
    case 'not':
    case 'documented':
      return [criterion.of];
    case 'fact':
      return [];
  }
}

/**
 * Every criterion that carries an id, in tree order (depth first, the first tree first), each id once: the
 * criteria a policy names publicly (SPEC §5) and the ones its cards, pages and reviewers' views cite.
 * @param roots - the trees
 */
export function namedCriteria(...roots: readonly Criterion[]): Criterion[] {
  const found: Criterion[] = [];
  const ids = new Set<string>();
  const visit = (c: Criterion): void => {
    if (c.id !== undefined && !ids.has(c.id)) {
      ids.add(c.id);
      found.push(c);
    }
    childrenOf(c).forEach(visit);
  };
  roots.forEach(visit);
  return found;
}
