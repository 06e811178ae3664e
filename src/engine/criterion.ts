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
