/**
 * The vocabulary every evidence rule speaks: what it found (evidence), its three-valued result, and the
 * sources it could not read. Rule families (conditions, observations, care, studies, orders, reports) each
 * live in their own file beside this one and share these helpers.
 */
import type { CodeableConcept, Coding, Resource, ServiceRequest } from 'fhir/r4.js';
import type { Truth } from '../../engine/truth.js';
import type { SourceType } from '../../fhir/patient-record.js';
import type { EvidenceRule, Policy } from '../../policy/policy-types.js';
import { DAY_MS, isoDay, onOrAfter, parseFhirDate, type FhirDate } from '../fhir-dates.js';
import { referenceOf, type Dated, type RecordIndex } from '../record-index.js';
import type { Lexicon } from '../../notes/index.js';
import type { ValueSets } from '../value-sets.js';

/** One piece of evidence: a FHIR reference and what the card says about it. */
export interface Evidence {
  readonly reference: string;
  /** What the record is, in the record's own words (code display or text). */
  readonly what: string;
  /** "ICD-10-CM Z85.46" */
  readonly code?: string;
  /** ISO date (YYYY-MM-DD) of the record. */
  readonly date?: string;
  /** A measured value ("38.9 Cel"). */
  readonly value?: string;
  /** When the evidence is a sentence in a note or report (SPEC §8.4): where, and how it was asserted. */
  readonly note?: NoteCitation;
}

/** A mention in a note, cited: the matched phrase's place in the stored text and the sentence around it. */
export interface NoteCitation {
  readonly assertion: 'affirmed' | 'negated';
  /** SPEC §8.4: offsets (UTF-16, end exclusive) into that part's text as stored; the slice is the matched phrase. */
  readonly span: { readonly in: string; readonly start: number; readonly end: number };
  /** The sentence around the mention, at most 200 characters, '…' where cut. */
  readonly quote: string;
  /** The note's type or title ("Progress note"). */
  readonly label: string;
  /** The note's date (YYYY-MM-DD), when it has one. */
  readonly date?: string;
}

/** What a rule found: its three-valued result, the records behind it, and the sources it could not read. */
export interface RuleResult {
  readonly value: Truth;
  readonly evidence: readonly Evidence[];
  readonly unreadable: readonly SourceType[];
  /** A measured quantity the card should show even when the rule is not met (the conservative-care span). */
  readonly detail?: string;
  /**
   * Mentions that deny the finding, when nothing affirms it and the notes were read whole (SPEC §8.4): an ask
   * fact is false on them; a closed-world fact ignores them.
   */
  readonly negating?: readonly Evidence[];
}

/** What facts are computed from: the policy, the patient's indexed record, the order and "now". */
export interface FactInput {
  readonly policy: Policy;
  readonly valueSets: ValueSets;
  readonly index: RecordIndex;
  readonly order: ServiceRequest;
  readonly draftOrders: readonly ServiceRequest[];
  /** "Now" in epoch ms: the order's authoredOn, else the time of the request (SPEC §1). */
  readonly now: number;
  /** The notes lexicon: phrases, triggers, sections and care patterns (SPEC §8). */
  readonly lexicon: Lexicon;
}

/** What a rule may read. Facts are looked up through `fact` so that answers apply (SPEC §2). */
export interface RuleContext extends FactInput {
  readonly fact: (id: string) => RuleResult;
}

/** The rule of one kind, for the family functions' signatures. */
export type RuleOf<K extends EvidenceRule['kind']> = Extract<EvidenceRule, { kind: K }>;

/** One shared, frozen empty list for results that found or missed nothing. */
export const NOTHING: readonly never[] = Object.freeze([]);

/**
 * The evidence without repeats, first occurrence kept: a note mention is the same when its reference, part and
 * start are ("reference|part|start"), any other record when its reference and words are ("reference|what").
 */
export function dedupe(evidence: readonly Evidence[]): readonly Evidence[] {
  if (evidence.length < 2) {
    return evidence;
  }
  // Without a '|' in the parts, the keys above split one way only, so nested maps tell exactly the same records
  // apart without building a key string per item: a fact with notes behind it carries hundreds of mentions, and
  // every rule above it deduplicates them again.
  const seen = new Map<string, Map<string, true | Set<number>>>();
  const kept: Evidence[] = [];
  for (const e of evidence) {
    const inner = e.note ? e.note.span.in : e.what;
    if (e.reference.includes('|') || inner.includes('|')) {
      return dedupeByKey(evidence);
    }
    let byReference = seen.get(e.reference);
    if (byReference === undefined) {
      byReference = new Map();
      seen.set(e.reference, byReference);
    }
    // a part ("content[0]") and a record's words never meet: they are told apart by the shape of the entry
    const entry = byReference.get(inner);
    if (e.note) {
      const start = e.note.span.start;
      if (entry === undefined) {
        byReference.set(inner, new Set([start]));
      } else if (entry === true || entry.has(start)) {
        // `true` is a record whose words equal this part's name: a different key, so not a repeat
        if (entry === true) {
          return dedupeByKey(evidence);
        }
        continue;
      } else {
        entry.add(start);
      }
    } else if (entry === undefined) {
      byReference.set(inner, true);
    } else if (entry === true) {
      continue;
    } else {
      return dedupeByKey(evidence);
    }
    kept.push(e);
  }
  return kept;
}

/** `dedupe` by its key strings, for the rare parts that hold a '|'. */
function dedupeByKey(evidence: readonly Evidence[]): readonly Evidence[] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const key = e.note ? `${e.reference}|${e.note.span.in}|${e.note.span.start}` : `${e.reference}|${e.what}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/**
 * Closed-world reading of a search (SPEC §2): true when something qualifying was found; otherwise false,
 * unless a source it depends on could not be read, which makes it unknown.
 */
export function closedWorld(evidence: readonly Evidence[], sources: readonly SourceType[], ctx: RuleContext, detail?: string): RuleResult {
  // Most records are read whole: then no source list is built at all.
  const unreadable = ctx.index.complete ? NOTHING : sources.filter((s) => ctx.index.failure(s) !== undefined);
  const value: Truth = evidence.length > 0 ? 'true' : unreadable.length > 0 ? 'unknown' : 'false';
  const result: { -readonly [K in keyof RuleResult]: RuleResult[K] } = { value, evidence: dedupe(evidence), unreadable };
  if (detail !== undefined) {
    result.detail = detail;
  }
  return result;
}

/** Combines sub-rule results with a Kleene connective; evidence comes from the children that made it true. */
export function combine(results: readonly RuleResult[], op: (v: Truth[]) => Truth): RuleResult {
  const value = op(results.map((r) => r.value));
  const contributing = value === 'true' ? results.filter((r) => r.value === 'true') : results;
  const evidence: Evidence[] = [];
  const unreadable: SourceType[] = [];
  let detail: string | undefined;
  for (const r of contributing) {
    evidence.push(...r.evidence);
  }
  for (const r of results) {
    for (const s of r.unreadable) {
      if (!unreadable.includes(s)) {
        unreadable.push(s);
      }
    }
    detail ??= r.detail;
  }
  const result: { -readonly [K in keyof RuleResult]: RuleResult[K] } = { value, evidence: dedupe(evidence), unreadable };
  if (detail !== undefined) {
    result.detail = detail;
  }
  if (value !== 'true') {
    // Denials only matter while nothing affirms: then every child's denials are the fact's.
    const negating = results.flatMap((r) => r.negating ?? NOTHING);
    if (negating.length > 0) {
      result.negating = dedupe(negating);
    }
  }
  return result;
}

export function displayOf(coding: Coding, concept: CodeableConcept | undefined): string {
  const text = (typeof coding.display === 'string' && coding.display) || (typeof concept?.text === 'string' && concept.text);
  return text || String(coding.code);
}

export function codedEvidence(
  reference: string,
  coding: Coding,
  concept: CodeableConcept | undefined,
  date: FhirDate | undefined,
  ctx: RuleContext,
  value?: string,
): Evidence {
  return {
    reference,
    what: displayOf(coding, concept),
    code: `${ctx.valueSets.systemLabel(coding.system)} ${String(coding.code).trim()}`,
    ...(date ? { date: isoDay(date.start) } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

export function evidenceOf<T extends Resource>(d: Dated<T>, coding: Coding, concept: CodeableConcept | undefined, ctx: RuleContext, value?: string): Evidence {
  return codedEvidence(d.reference, coding, concept, d.date, ctx, value);
}

export function orderEvidence(ctx: RuleContext, coding: Coding, concept: CodeableConcept | undefined): Evidence {
  return codedEvidence(referenceOf(ctx.order), coding, concept, parseFhirDate(ctx.order.authoredOn), ctx);
}

/** SPEC §2 "within N days": dated on or after now minus N days; no window means any date. */
export function withinDays(date: FhirDate | undefined, days: number | undefined, now: number): boolean {
  return days === undefined || (date !== undefined && onOrAfter(date, now - days * DAY_MS));
}

