import { randomUUID } from 'node:crypto';
import type { Questionnaire, QuestionnaireItem } from 'fhir/r4.js';
import type { Evidence } from '../facts/evidence-rules.js';
import type { FactResult } from '../facts/extract-facts.js';
import { DAY_MS } from '../facts/fhir-dates.js';
import { policyLookup } from '../policy/policy-lookup.js';
import type { FactDefinition, Policy } from '../policy/policy-types.js';

const SDC_QUESTIONNAIRE = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire';
const ITEM_CONTROL = 'http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl';

/** Every fact a clinician can attest: the leaves of both trees (SPEC §5), in tree order. */
export function askableFacts(policy: Policy): readonly string[] {
  return policyLookup(policy).askable;
}

function evidenceText(e: Evidence): string {
  if (e.note) {
    // SPEC §8.4: a questionnaire pre-answered from a note gives the quote as its evidence.
    const where = [e.note.label, e.note.date].filter((x) => x !== undefined && x !== '').join(', ');
    return `“${e.note.quote}” (${where}${where ? ', ' : ''}${e.note.assertion === 'negated' ? 'documented absent in a note' : 'documented in a note'})`;
  }
  return [e.what, e.value, e.code, e.date].filter((x) => x !== undefined).join(', ');
}

/** What the record holds about a fact, in one sentence, or nothing. */
function documented(f: FactResult | undefined): string | undefined {
  if (!f) {
    return undefined;
  }
  const parts: string[] = [];
  if (f.detail !== undefined) {
    parts.push(f.detail);
  }
  // What the record holds for the fact, or, for an ask fact a note denies, the denial.
  const shown = f.evidence.length > 0 ? f.evidence : f.negating;
  if (shown.length > 0) {
    parts.push(shown.slice(0, 3).map(evidenceText).join('; '));
  }
  return parts.length > 0 ? `On record: ${parts.join('; ')}.` : undefined;
}

function item(def: FactDefinition, fact: FactResult | undefined, prefill: boolean, withHelp: boolean): QuestionnaireItem {
  if (!withHelp) {
    return { linkId: def.id, text: def.words, type: 'boolean' };
  }
  const record = documented(fact);
  const help = [def.hint !== undefined ? `Supporting documentation: ${def.hint}.` : undefined, record].filter((x) => x !== undefined).join(' ');
  // Pre-answered when coded data settles the fact, so the clinician confirms rather than retypes.
  const settled = prefill && fact !== undefined && !fact.answer && fact.coded !== 'unknown';
  return {
    linkId: def.id,
    text: settled && record !== undefined ? `${def.words} (${record.replace(/\.$/, '')})` : def.words,
    type: 'boolean',
    ...(settled ? { initial: [{ valueBoolean: fact.coded === 'true' }] } : {}),
    ...(help
      ? {
          item: [
            {
              linkId: `${def.id}.help`,
              type: 'display',
              text: help,
              extension: [{ url: ITEM_CONTROL, valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/questionnaire-item-control', code: 'help' }] } }],
            },
          ],
        }
      : {}),
  };
}

export interface QuestionnaireOptions {
  readonly id: string;
  readonly title: string;
  /** The determination's facts: evidence for help text, coded values for pre-answers. */
  readonly facts?: ReadonlyMap<string, FactResult>;
  /** Pre-answer items that coded data settles. */
  readonly prefill?: boolean;
  /**
   * With each item's help text (default). Without it, the outline a card and its suggestion need: the same
   * ids, canonical URL, groups and question texts, built cheaply while the clinician waits.
   */
  readonly help?: boolean;
}

/**
 * An SDC-style Questionnaire of the given facts: one boolean item per fact (linkId = fact id, text in the
 * policy's words, a help item saying what documentation supports it), grouped as the policy groups them.
 * @param policy - the policy
 * @param baseUrl - where the service is reached; the Questionnaire's canonical URL is under it
 * @param factIds - the facts to ask, in order
 * @param options - id, title, and the determination's facts when there is one
 */
export function buildQuestionnaire(policy: Policy, baseUrl: string, factIds: readonly string[], options: QuestionnaireOptions): Questionnaire {
  const definitions = policyLookup(policy).facts;
  const groups = new Map<string, QuestionnaireItem[]>();
  for (const id of factIds) {
    const def = definitions.get(id);
    if (def) {
      const items = groups.get(def.group) ?? [];
      items.push(item(def, options.facts?.get(id), options.prefill ?? false, options.help ?? true));
      groups.set(def.group, items);
    }
  }
  return {
    resourceType: 'Questionnaire',
    id: options.id,
    meta: { profile: [SDC_QUESTIONNAIRE] },
    url: `${baseUrl}/Questionnaire/${options.id}`,
    version: policy.version,
    name: options.id.replace(/[^A-Za-z0-9]/g, '_'),
    title: options.title,
    status: 'active',
    subjectType: ['Patient'],
    date: policy.revised,
    publisher: policy.publisher,
    description: `Documentation for the ${policy.name}, version ${policy.version}. Each item's linkId is the policy fact it answers.`,
    item: [...groups].map(([group, items]) => ({
      linkId: `group.${group}`,
      text: policy.groups[group]?.title ?? group,
      type: 'group',
      item: items,
    })),
  };
}

/** The canonical reference (url|version) CRD and QuestionnaireResponses use. */
export function canonical(q: Questionnaire): string {
  return `${q.url ?? ''}|${q.version ?? ''}`;
}

/**
 * Who a questionnaire is built for. `with-record`: the EHR's authenticated client, which may see what the record
 * holds (pre-answers, "On record" help with dates and ages). `policy-only`: anyone else — the questions, groups
 * and the policy's hints, and nothing from the record (issue #12: nothing served without authentication carries
 * identifiers, birth dates, ages or quotes).
 */
export type QuestionnaireView = 'with-record' | 'policy-only';

type Producer = (view: QuestionnaireView) => Questionnaire;

/**
 * Per-determination questionnaires, held for a day so that the card's link and a DTR client can fetch them.
 * An entry may be a producer, built on first fetch of each view: the pre-answered companion costs nothing on
 * the signing path unless someone opens it. Bounded; ids are random, so one patient's questionnaire cannot be
 * guessed from another's.
 */
export class QuestionnaireStore {
  private readonly entries = new Map<string, { produce: Producer; built: Partial<Record<QuestionnaireView, Questionnaire>>; until: number }>();
  /**
   * Ids in the order they were put, as a ring: the slot about to be reused names the oldest entry. Asking the
   * Map for its first key instead walks every deleted slot before it, a cost that grows with the capacity and
   * was paid on every signing.
   */
  private readonly order: (string | undefined)[];
  private nextSlot = 0;

  /**
   * @param capacity - entries kept at most (the oldest go first)
   * @param ttlMs - how long an entry is served
   * @param clock - epoch ms
   */
  constructor(
    capacity = 1_000,
    private readonly ttlMs = DAY_MS,
    private readonly clock: () => number = Date.now,
  ) {
    this.order = new Array<string | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  /** A fresh id that names the policy and its version. */
  static newId(policy: Policy): string {
    return `${policy.id}-v${policy.version.replace(/\./g, '-')}-${randomUUID()}`;
  }

  /** How many questionnaires are held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Keeps a questionnaire, or a way to build each view of it, under an id. A questionnaire given as is has the
   * same content in both views (it must then hold nothing from the record).
   * @param id - the questionnaire id
   * @param questionnaire - the questionnaire, or its producer
   */
  put(id: string, questionnaire: Questionnaire | Producer): void {
    const until = this.clock() + this.ttlMs;
    const entry =
      typeof questionnaire === 'function'
        ? { produce: questionnaire, built: {}, until }
        : { produce: () => questionnaire, built: { 'with-record': questionnaire, 'policy-only': questionnaire }, until };
    // An id still held keeps its slot (ids are fresh UUIDs, so this is only a guard against double counting).
    if (this.entries.has(id)) {
      this.entries.set(id, entry);
      return;
    }
    const evicted = this.order[this.nextSlot];
    if (evicted !== undefined) {
      this.entries.delete(evicted);
    }
    this.order[this.nextSlot] = id;
    this.nextSlot = (this.nextSlot + 1) % this.order.length;
    this.entries.set(id, entry);
  }

  /** Whether a questionnaire is still served under this id (without building it). */
  has(id: string): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.until >= this.clock();
  }

  /**
   * A held questionnaire, built for its reader.
   * @param id - the questionnaire id
   * @param view - who reads it: the EHR's authenticated client (`with-record`), or anyone else
   */
  get(id: string, view: QuestionnaireView): Questionnaire | undefined {
    const entry = this.entries.get(id);
    if (!entry) {
      return undefined;
    }
    if (entry.until < this.clock()) {
      // Expired: forgotten now; its ring slot is reused in turn (deleting a missing id is harmless).
      this.entries.delete(id);
      return undefined;
    }
    entry.built[view] ??= entry.produce(view);
    return entry.built[view];
  }
}

/** Which of a determination's two questionnaires an id names: the missing facts, or every criterion. */
export type QuestionnaireKind = 'missing' | 'full';

/** The suffix of the companion questionnaire's id (every criterion, pre-answered for the EHR). */
const FULL_SUFFIX = '-full';

/** The id of the companion questionnaire of a determination whose missing-facts questionnaire is `id`. */
export function fullQuestionnaireId(id: string): string {
  return `${id}${FULL_SUFFIX}`;
}

/** The determination's questionnaire id an id belongs to, and which of its two questionnaires it names. */
export function questionnaireKindOf(id: string): { readonly base: string; readonly kind: QuestionnaireKind } {
  return id.endsWith(FULL_SUFFIX) ? { base: id.slice(0, -FULL_SUFFIX.length), kind: 'full' } : { base: id, kind: 'missing' };
}

/**
 * What both questionnaires of one documentation-needed determination are built from, kept as JSON so that
 * any replica can serve them (issue #13 §2): the policy and version they ask under, the base URL of their
 * canonical, the missing facts, and what the record holds about each askable fact (values, an answer's
 * presence, the span's detail and at most three pieces of evidence). The questionnaires themselves are
 * built when fetched, for their reader: nothing from the record reaches the view for anyone but the EHR.
 */
export interface QuestionnaireSpec {
  readonly policy: { readonly id: string; readonly version: string };
  readonly baseUrl: string;
  readonly missing: readonly string[];
  readonly facts: readonly FactResult[];
}

/**
 * The spec of a determination's questionnaires: only the askable facts, each cut to what a questionnaire
 * shows (three pieces of evidence, no unreadable list), so the stored row stays small.
 * @param policy - the policy
 * @param baseUrl - where the service is reached
 * @param missing - the missing facts, in the card's order
 * @param facts - the determination's facts
 */
export function questionnaireSpec(policy: Policy, baseUrl: string, missing: readonly string[], facts: ReadonlyMap<string, FactResult>): QuestionnaireSpec {
  const kept: FactResult[] = [];
  for (const id of askableFacts(policy)) {
    const f = facts.get(id);
    if (f) {
      kept.push({
        id: f.id,
        value: f.value,
        coded: f.coded,
        evidence: f.evidence.slice(0, 3),
        negating: f.negating.slice(0, 3),
        unreadable: [],
        ...(f.answer !== undefined ? { answer: f.answer } : {}),
        ...(f.detail !== undefined ? { detail: f.detail } : {}),
      });
    }
  }
  return { policy: { id: policy.id, version: policy.version }, baseUrl, missing: [...missing], facts: kept };
}

/** The outline of the missing-facts questionnaire a card, its suggestion and CRD need: no help, nothing from the record. */
export function questionnaireOutline(policy: Policy, id: string, spec: Pick<QuestionnaireSpec, 'baseUrl' | 'missing'>): Questionnaire {
  return buildQuestionnaire(policy, spec.baseUrl, spec.missing, { id, title: missingTitle(policy), help: false });
}

function missingTitle(policy: Policy): string {
  return `${policy.service}: documentation needed for this order`;
}

/**
 * One of a determination's questionnaires from its spec, built for its reader; undefined when the spec was
 * written under another policy or version than the one loaded (its questions are no longer this policy's).
 * @param policy - the loaded policy
 * @param id - the determination's questionnaire id (the missing-facts one)
 * @param spec - what was kept at signing
 * @param kind - the missing facts, or every criterion
 * @param view - the EHR's authenticated client (`with-record`), or anyone else
 */
export function questionnaireOfSpec(policy: Policy, id: string, spec: QuestionnaireSpec, kind: QuestionnaireKind, view: QuestionnaireView): Questionnaire | undefined {
  if (spec.policy.id !== policy.id || spec.policy.version !== policy.version) {
    return undefined;
  }
  const facts = view === 'with-record' ? new Map(spec.facts.map((f) => [f.id, f])) : undefined;
  if (kind === 'missing') {
    return buildQuestionnaire(policy, spec.baseUrl, spec.missing, { id, title: missingTitle(policy), ...(facts ? { facts } : {}) });
  }
  const fullId = fullQuestionnaireId(id);
  return buildQuestionnaire(
    policy,
    spec.baseUrl,
    askableFacts(policy),
    facts
      ? { id: fullId, title: `${policy.service}: every criterion, pre-answered from the record`, facts, prefill: true }
      : { id: fullId, title: `${policy.service}: every criterion of the policy` },
  );
}

const TRUTHS: ReadonlySet<unknown> = new Set(['true', 'false', 'unknown']);
const isString = (x: unknown): x is string => typeof x === 'string';
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const optionalString = (x: unknown): boolean => x === undefined || typeof x === 'string';

/** A note citation (SPEC §8.4): the assertion, the span, the quote and the note's label and date. */
function isNoteCitation(x: unknown): boolean {
  if (!isRecord(x) || !isRecord(x.span) || !isString(x.quote) || !isString(x.label) || !optionalString(x.date)) {
    return false;
  }
  const { span } = x;
  return (x.assertion === 'affirmed' || x.assertion === 'negated') && isString(span.in) && Number.isInteger(span.start) && Number.isInteger(span.end);
}

function isEvidence(x: unknown): x is Evidence {
  return (
    isRecord(x) &&
    isString(x.reference) &&
    isString(x.what) &&
    optionalString(x.code) &&
    optionalString(x.date) &&
    optionalString(x.value) &&
    (x.note === undefined || isNoteCitation(x.note))
  );
}

function isFact(x: unknown): x is FactResult {
  if (!isRecord(x) || !isString(x.id) || !TRUTHS.has(x.value) || !TRUTHS.has(x.coded) || !Array.isArray(x.evidence) || !x.evidence.every(isEvidence)) {
    return false;
  }
  const answer = x.answer;
  const answerOk = answer === undefined || (isRecord(answer) && typeof answer.value === 'boolean' && isString(answer.reference) && isString(answer.authored));
  // Specs written before notes were read carry no denials: read as none.
  const negatingOk = x.negating === undefined || (Array.isArray(x.negating) && x.negating.every(isEvidence));
  return answerOk && negatingOk && optionalString(x.detail) && Array.isArray(x.unreadable);
}

/**
 * A spec read back from the store, checked field by field: the store is outside this process, and a row
 * written by another version of the service must not become a malformed questionnaire.
 * @param value - the stored JSON
 */
export function readQuestionnaireSpec(value: unknown): QuestionnaireSpec | undefined {
  if (!isRecord(value) || !isRecord(value.policy) || !isString(value.policy.id) || !isString(value.policy.version) || !isString(value.baseUrl)) {
    return undefined;
  }
  if (!Array.isArray(value.missing) || !value.missing.every(isString) || !Array.isArray(value.facts) || !value.facts.every(isFact)) {
    return undefined;
  }
  return {
    policy: { id: value.policy.id, version: value.policy.version },
    baseUrl: value.baseUrl,
    missing: value.missing,
    facts: value.facts.map((f: FactResult) => (f.negating === undefined ? { ...f, negating: [] } : f)),
  };
}
