import type { Coding, Resource } from 'fhir/r4.js';

/** CDS Hooks 2.0.1 §Card attributes, as this service emits them. */
export interface Card {
  readonly uuid: string;
  readonly summary: string;
  readonly detail?: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly source: { readonly label: string; readonly url?: string; readonly topic?: Coding };
  readonly suggestions?: readonly Suggestion[];
  readonly selectionBehavior?: 'at-most-one' | 'any';
  readonly overrideReasons?: readonly Coding[];
  readonly links?: readonly Link[];
  readonly extension?: Readonly<Record<string, unknown>>;
}

export interface Link {
  readonly label: string;
  readonly url: string;
  readonly type: 'absolute' | 'smart';
}

export interface Suggestion {
  readonly label: string;
  readonly uuid: string;
  readonly isRecommended?: boolean;
  readonly actions?: readonly Action[];
}

/**
 * CDS Hooks 2.0.1 §Action; a system action updates the order with CRD coverage information. A create or update
 * carries the resource (SHALL). A delete names its target in `resourceId` (SHOULD); it may also carry the resource
 * being deleted as an object — the spec deprecates only a string id in `resource` — which clients that read the
 * target from `resource` (the Da Vinci CRD request generator) need.
 */
export type Action =
  | { readonly type: 'create' | 'update'; readonly description: string; readonly resource: Resource }
  | { readonly type: 'delete'; readonly description: string; readonly resourceId: string; readonly resource?: Resource };

export interface CdsResponse {
  readonly cards: readonly Card[];
  readonly systemActions?: readonly Action[];
  readonly extension?: Readonly<Record<string, unknown>>;
}

/** SPEC §7: the determination carried on each card's extension. */
export interface DeterminationExtension {
  readonly policy: { readonly id: string; readonly version: string };
  readonly order: string;
  readonly decision: string;
  readonly satisfied?: readonly string[];
  readonly missing?: readonly string[];
  readonly evidence?: readonly {
    readonly fact: string;
    readonly reference: string;
    readonly assertion?: 'affirmed' | 'negated';
    readonly span?: { readonly in: string; readonly start: number; readonly end: number };
  }[];
}
