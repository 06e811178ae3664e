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
