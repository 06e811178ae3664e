/**
 * The shape of a policy as data. Nothing here knows about spines: a policy is facts (with the coded
 * evidence rules that establish them) and a criteria tree over those facts. The tree's node type belongs to
 * the engine that evaluates it (src/engine/criterion.ts); the policy only builds such trees from its data.
 */
import type { Criterion } from '../engine/criterion.js';

export type { Criterion };

/** The criterion tree as written in the policy file: criteria may name a shared subtree with `ref`. */
export type CriterionData =
  | { kind: 'all' | 'any'; id?: string; label?: string; clause?: string; of: CriterionData[] }
  | { kind: 'not' | 'documented'; id?: string; label?: string; clause?: string; of: CriterionData }
  | { kind: 'fact'; fact: string }
  | { kind: 'ref'; ref: string };

/** Anchors a comparison to the most recent study of a study definition (SPEC §4.2). */
export interface LatestStudy {
  readonly latest: string;
}

/** Studies of a definition, optionally narrowed by modality, within a window (SPEC §4.2). */
export interface StudySelection {
  readonly study: string;
  readonly modalities?: string;
  readonly withinDays?: number;
  readonly withinMonths?: number;
}

export interface QuantityThreshold {
  /** UCUM code the value must carry; absent means any unit. */
  readonly unit?: string;
  readonly atLeast?: number;
  readonly atMost?: number;
}

/**
 * Evidence rules: the generic clinical primitives a fact's coded evidence is written in. Each evaluates
 * three-valued with the references it found (src/facts/evidence-rules.ts).
 */
export type EvidenceRule =
  | { readonly kind: 'any'; readonly of: readonly EvidenceRule[] }
  | { readonly kind: 'all'; readonly of: readonly EvidenceRule[] }
  | { readonly kind: 'fact'; readonly fact: string }
  | {
      readonly kind: 'condition';
      readonly codes: string;
      /** 'active' (SPEC §2 "is active"), 'any', or an explicit list of clinicalStatus codes. */
      readonly clinicalStatus: 'active' | 'any' | readonly string[];
      /** Allowed verificationStatus codes; 'absent' allows a Condition without one. */
      readonly verification?: readonly string[];
      readonly withinDays?: number;
      /** Dated strictly after the most recent study of this definition. */
      readonly after?: LatestStudy;
    }
  | {
      readonly kind: 'observation-quantity';
      readonly codes: string;
      readonly thresholds: readonly QuantityThreshold[];
      readonly withinDays?: number;
    }
  | { readonly kind: 'observation-value'; readonly values: string }
  | {
      readonly kind: 'weight-drop';
      readonly codes: string;
      readonly atLeastPercent: number;
      readonly withinDays: number;
      readonly unlessCondition: string;
    }
  | { readonly kind: 'age'; readonly atLeastYears: number }
  | { readonly kind: 'order-code'; readonly codes: string }
  | { readonly kind: 'order-reason'; readonly codes: string }
  | { readonly kind: 'care-span'; readonly care: string; readonly atLeastDays: number }
  | { readonly kind: 'care-record'; readonly care: string; readonly after: LatestStudy }
  | {
      readonly kind: 'procedure';
      readonly codes: string;
      readonly statuses: readonly string[];
      readonly after?: LatestStudy;
    }
  | {
      readonly kind: 'service-request';
      readonly codes?: string;
      readonly performerTypes?: string;
      readonly statuses: readonly string[];
      readonly includeDraftOrders: boolean;
    }
  | ({ readonly kind: 'imaging' } & StudySelection)
  | {
      readonly kind: 'report-conclusion';
      readonly codes: string;
      readonly after?: LatestStudy;
      /** The report references one of these studies, or is dated on or after one. */
      readonly about?: StudySelection;
    }
  | {
      /** Mentions in the patient's notes and narrative reports (SPEC §8.4–§8.5). */
      readonly kind: 'note';
      /** The phrase set of the notes lexicon (policy/notes-lexicon.json) whose mentions count. */
      readonly phrases: string;
      /** Which texts are read and which mentions count by their text's date. */
      readonly window: NoteWindow;
      /** Flags a mention may carry and still affirm (SPEC §8.4); negated and other never do. */
      readonly accepts?: readonly NoteFlag[];
    };

/** A ConText flag a fact may accept on an affirming mention (SPEC §8.5 "accepts"). */
export type NoteFlag = 'possible' | 'hypothetical' | 'historical';

/**
 * SPEC §8.5 "window": which of the patient's texts a note rule reads, and which of them count.
 * - `withinDays`: texts dated within N days before now ("90 d", or the fact's own window);
 * - `anyDate`: any date, undated texts included;
 * - `afterLatest`: texts dated after the most recent study of a definition;
 * - `reports`: only DiagnosticReports that reference (or are dated on or after) a selected study, or are dated after
 *   the most recent one. The phrases of such a rule are matched in those reports and nowhere else.
 */
export type NoteWindow =
  | { readonly withinDays: number }
  | { readonly anyDate: true }
  | { readonly afterLatest: LatestStudy }
  | { readonly reports: { readonly about?: StudySelection; readonly after?: LatestStudy } };

export type EvidenceKind = EvidenceRule['kind'];

/** How a fact defaults when no evidence makes it true (SPEC §2). */
export type FactBasis = 'closed' | 'ask';

export interface FactDefinition {
  readonly id: string;
  readonly group: string;
  readonly basis: FactBasis;
  /** The policy's own words. */
  readonly words: string;
  /** Short plain-words label for summaries. */
  readonly label: string;
  /** What documentation supports the fact, for the checklist. */
  readonly hint?: string;
  /** Interpretation recorded where SPEC.md is silent. */
  readonly note?: string;
  readonly evidence?: EvidenceRule;
  /** When no evidence makes the fact true, this makes it unknown instead of false. */
  readonly unknownWhen?: EvidenceRule;
  /** When this is false, the fact is false whatever its basis. */
  readonly requires?: EvidenceRule;
}

export interface StudyDefinition {
  readonly modalities: string;
  readonly bodySites: string;
  readonly procedureCodes: string;
}

export interface CareDefinition {
  readonly procedures: string;
  readonly procedureStatuses: readonly string[];
  readonly medications: string;
  readonly medicationStatuses: readonly string[];
  readonly lookbackDays: number;
  /** Conservative care documented in notes counts too (SPEC §8.6): a modality bound to a duration or a date. */
  readonly fromNotes?: boolean;
}

export interface PolicyScope {
  readonly orderCodes: string;
  readonly siteDependentOrderCodes: string;
  readonly siteDependentBodySites: string;
}

/** An alternate request offered when an order does not meet criteria (Da Vinci CRD). */
export interface AlternateOrder {
  readonly whenOrderIn: string;
  readonly replacement: { readonly system: string; readonly code: string; readonly display: string };
}

export interface AnswerRules {
  readonly questionnaireContains: string;
  readonly statuses: readonly string[];
  readonly withinDays: number;
}

/** A group of facts: a heading, and the phrase a summary uses to ask for any of them. */
export interface FactGroup {
  readonly title: string;
  readonly phrase: string;
}

/** A loaded, validated policy with its tree compiled (refs resolved). */
export interface Policy {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly publisher: string;
  readonly program: string;
  readonly service: string;
  readonly text: string;
  /** Approval and revision dates (YYYY-MM-DD). */
  readonly approved: string;
  readonly revised: string;
  readonly scope: PolicyScope;
  readonly answers: AnswerRules;
  readonly alternate?: AlternateOrder;
  readonly studies: Readonly<Record<string, StudyDefinition>>;
  readonly care: Readonly<Record<string, CareDefinition>>;
  readonly groups: Readonly<Record<string, FactGroup>>;
  readonly facts: readonly FactDefinition[];
  readonly indications: Criterion;
  readonly nonIndications: Criterion;
}

/** The policy file before its tree is compiled. */
export type PolicyData = Omit<Policy, 'indications' | 'nonIndications'> & {
  readonly criteria: { readonly indications: CriterionData; readonly nonIndications: CriterionData };
};
