import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ValueSets, type ValueSetsData } from '../facts/value-sets.js';
import { projectRoot, readProjectJson } from '../project-root.js';
import type { Lexicon } from '../notes/index.js';
import { loadLexicon } from './load-lexicon.js';
import { clauseAnchor, parsePolicyText } from './policy-text.js';
import type { Criterion, CriterionData, EvidenceRule, Policy, PolicyData } from './policy-types.js';

/** The policy file is wrong; names the criterion or fact at fault so the author can find it. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  /**
   * @param where - the criterion, fact or field at fault
   * @param message - what is wrong
   */
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`policy ${where}: ${message}`);
  }
}

/** A policy ready to evaluate, with its value sets and its full text. */
export interface LoadedPolicy {
  readonly policy: Policy;
  readonly valueSets: ValueSets;
  /** The payer's policy text, served so that cards can link to the authority. */
  readonly text: string;
  /** What notes are read for (SPEC §8): phrases, triggers, sections, care patterns. */
  readonly lexicon: Lexicon;
}

const criterionSchema = {
  $id: 'criterion',
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { enum: ['all', 'any', 'not', 'documented', 'fact', 'ref'] },
    id: { type: 'string', pattern: '^(ind|non)(\\.[a-z0-9-]+)?$' },
    label: { type: 'string' },
    clause: { type: 'string' },
    fact: { type: 'string' },
    ref: { type: 'string' },
    of: { anyOf: [{ $ref: 'criterion' }, { type: 'array', items: { $ref: 'criterion' }, minItems: 1 }] },
  },
};

const policySchema = {
  type: 'object',
  required: ['id', 'version', 'name', 'publisher', 'program', 'service', 'text', 'approved', 'revised', 'scope', 'answers', 'studies', 'care', 'groups', 'facts', 'criteria'],
  properties: {
    id: { type: 'string', minLength: 1 },
    version: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    facts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'group', 'basis', 'words', 'label'],
        properties: {
          id: { type: 'string', pattern: '^(rf|fact)\\.[a-z0-9-]+$' },
          basis: { enum: ['closed', 'ask'] },
          evidence: { type: 'object' },
          unknownWhen: { type: 'object' },
          requires: { type: 'object' },
        },
      },
    },
    criteria: {
      type: 'object',
      required: ['indications', 'nonIndications'],
      properties: { indications: { $ref: 'criterion' }, nonIndications: { $ref: 'criterion' } },
    },
  },
};

const valueSetsSchema = {
  type: 'object',
  required: ['systems', 'valueSets'],
  properties: {
    systems: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['url', 'match', 'label'],
        properties: {
          url: { type: 'string' },
          aliases: { type: 'array', items: { type: 'string', minLength: 1 } },
          match: { enum: ['icd10-prefix', 'exact'] },
          label: { type: 'string' },
        },
      },
    },
    valueSets: {
      type: 'object',
      additionalProperties: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            system: { type: 'string' },
            valueSet: { type: 'string' },
            codes: { type: 'array', items: { type: 'string' } },
            except: { type: 'array', items: { type: 'string' } },
            concepts: { type: 'array', items: { type: 'object', required: ['code', 'name'] } },
          },
        },
      },
    },
  },
};

/** Collects the data nodes that carry an id, so that `ref`s can point at them wherever they stand. */
function collectNamed(node: CriterionData, into: Map<string, CriterionData>): void {
  if (node.kind === 'fact' || node.kind === 'ref') {
    return;
  }
  if (node.id !== undefined) {
    if (into.has(node.id)) {
      throw new PolicyError(node.id, 'criterion ids must be unique');
    }
    into.set(node.id, node);
  }
  for (const child of Array.isArray(node.of) ? node.of : [node.of]) {
    collectNamed(child, into);
  }
}

/**
 * Compiles the data tree into criteria: a `ref` becomes the very node it names (shared, so it is
 * evaluated once), every fact must exist, and every named criterion must cite its clause.
 */
class TreeCompiler {
  private readonly compiled = new Map<string, Criterion>();
  private readonly compiling = new Set<string>();

  constructor(
    private readonly named: ReadonlyMap<string, CriterionData>,
    private readonly facts: ReadonlySet<string>,
  ) {}

  compile(node: CriterionData): Criterion {
    switch (node.kind) {
      case 'fact':
        if (!this.facts.has(node.fact)) {
          throw new PolicyError(node.fact, 'the tree reads a fact the policy does not define');
        }
        return { kind: 'fact', fact: node.fact };
      case 'ref': {
        const target = this.named.get(node.ref);
        if (!target) {
          throw new PolicyError(node.ref, 'a ref names a criterion that does not exist');
        }
        return this.compile(target);
      }
      case 'not':
      case 'documented':
      case 'all':
      case 'any':
        break;
    }
    const id = node.id;
    if (id !== undefined) {
      const done = this.compiled.get(id);
      if (done) {
        return done;
      }
      if (this.compiling.has(id)) {
        throw new PolicyError(id, 'the criterion refers to itself');
      }
      if (node.clause === undefined) {
        throw new PolicyError(id, 'every named criterion must cite its policy clause');
      }
      this.compiling.add(id);
    }
    const base = {
      ...(id !== undefined ? { id } : {}),
      ...(node.label !== undefined ? { label: node.label } : {}),
      ...(node.clause !== undefined ? { clause: node.clause } : {}),
    };
    let criterion: Criterion;
    if (node.kind === 'not' || node.kind === 'documented') {
      if (Array.isArray(node.of)) {
        throw new PolicyError(id ?? node.kind, `'${node.kind}' takes one criterion`);
      }
      criterion = { kind: node.kind, ...base, of: this.compile(node.of) };
    } else {
      if (!Array.isArray(node.of)) {
        throw new PolicyError(id ?? node.kind, `'${node.kind}' takes a list of criteria`);
      }
      criterion = { kind: node.kind, ...base, of: node.of.map((c) => this.compile(c)) };
    }
    if (id !== undefined) {
      this.compiling.delete(id);
      this.compiled.set(id, criterion);
    }
    return criterion;
  }
}

function checkRule(rule: EvidenceRule, where: string, data: PolicyData, valueSets: ValueSets, facts: ReadonlySet<string>, lexicon: Lexicon): void {
  const needSet = (name: string | undefined): void => {
    if (name !== undefined && !valueSets.has(name)) {
      throw new PolicyError(where, `names unknown value set '${name}'`);
    }
  };
  const needStudy = (name: string): void => {
    if (!data.studies[name]) {
      throw new PolicyError(where, `names unknown study definition '${name}'`);
    }
  };
  switch (rule.kind) {
    case 'any':
    case 'all':
      rule.of.forEach((r) => checkRule(r, where, data, valueSets, facts, lexicon));
      return;
    case 'fact':
      if (!facts.has(rule.fact)) {
        throw new PolicyError(where, `refers to unknown fact '${rule.fact}'`);
      }
      return;
    case 'condition':
      needSet(rule.codes);
      if (rule.after) {
        needStudy(rule.after.latest);
      }
      return;
    case 'observation-quantity':
    case 'order-code':
    case 'order-reason':
      needSet(rule.codes);
      return;
    case 'observation-value':
      needSet(rule.values);
      return;
    case 'weight-drop':
      needSet(rule.codes);
      needSet(rule.unlessCondition);
      return;
    case 'age':
      return;
    case 'care-span':
    case 'care-record':
      if (!data.care[rule.care]) {
        throw new PolicyError(where, `names unknown care definition '${rule.care}'`);
      }
      if (rule.kind === 'care-record') {
        needStudy(rule.after.latest);
      }
      return;
    case 'procedure':
      needSet(rule.codes);
      if (rule.after) {
        needStudy(rule.after.latest);
      }
      return;
    case 'service-request':
      needSet(rule.codes);
      needSet(rule.performerTypes);
      return;
    case 'imaging':
      needStudy(rule.study);
      needSet(rule.modalities);
      return;
    case 'report-conclusion':
      needSet(rule.codes);
      if (rule.after) {
        needStudy(rule.after.latest);
      }
      if (rule.about) {
        needStudy(rule.about.study);
        needSet(rule.about.modalities);
      }
      return;
    case 'note': {
      if (!lexicon.setIndex.has(rule.phrases)) {
        throw new PolicyError(where, `names unknown phrase set '${rule.phrases}' (policy/notes-lexicon.json)`);
      }
      const w = rule.window;
      if ('afterLatest' in w) {
        needStudy(w.afterLatest.latest);
      } else if ('reports' in w) {
        if (w.reports.after) {
          needStudy(w.reports.after.latest);
        }
        if (w.reports.about) {
          needStudy(w.reports.about.study);
          needSet(w.reports.about.modalities);
        }
      } else if (!('withinDays' in w) && !('anyDate' in w)) {
        throw new PolicyError(where, 'a note rule needs a window: withinDays, anyDate, afterLatest or reports');
      }
      return;
    }
    default: {
      const unknown: never = rule;
      throw new PolicyError(where, `unknown evidence rule ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Every named criterion's clause must name a place in the policy text ("Indications ¶3" → the third item under
 * "Indications"), so that the link a card gives to it lands there. A policy without its text is not checked.
 */
function checkClauseAnchors(named: ReadonlyMap<string, CriterionData>, text: string): void {
  if (text.trim() === '') {
    return;
  }
  const anchors = parsePolicyText(text).anchors;
  for (const [id, node] of named) {
    const clause = node.kind !== 'fact' && node.kind !== 'ref' ? node.clause : undefined;
    const anchor = clause !== undefined ? clauseAnchor(clause) : undefined;
    if (clause !== undefined && (anchor === undefined || !anchors.has(anchor))) {
      throw new PolicyError(id, `clause '${clause.slice(0, 40)}' names no place in the policy text (looked for #${anchor ?? '?'})`);
    }
  }
}

/**
 * Validates a policy, its value sets and its notes lexicon, and compiles the tree.
 * @param policyJson - the parsed policy file
 * @param valueSetsJson - the parsed value-set file
 * @param text - the policy text
 * @param lexicon - the compiled notes lexicon the policy's note rules name phrase sets of
 */
export function compilePolicy(policyJson: unknown, valueSetsJson: unknown, text: string, lexicon: Lexicon): LoadedPolicy {
  const ajv = new Ajv({ allErrors: false, strict: false });
  ajv.addSchema(criterionSchema);
  if (!ajv.validate(valueSetsSchema, valueSetsJson)) {
    throw new PolicyError('value sets', ajv.errorsText());
  }
  if (!ajv.validate(policySchema, policyJson)) {
    throw new PolicyError('file', ajv.errorsText());
  }
  const data = policyJson as PolicyData;
  const valueSets = new ValueSets(valueSetsJson as ValueSetsData);
  const factIds = new Set<string>();
  for (const f of data.facts) {
    if (factIds.has(f.id)) {
      throw new PolicyError(f.id, 'fact ids must be unique');
    }
    factIds.add(f.id);
  }
  for (const f of data.facts) {
    for (const rule of [f.evidence, f.unknownWhen, f.requires]) {
      if (rule) {
        checkRule(rule, f.id, data, valueSets, factIds, lexicon);
      }
    }
    if (!data.groups[f.group]) {
      throw new PolicyError(f.id, `unknown group '${f.group}'`);
    }
  }
  for (const name of [data.scope.orderCodes, data.scope.siteDependentOrderCodes, data.scope.siteDependentBodySites, ...(data.alternate ? [data.alternate.whenOrderIn] : [])]) {
    if (!valueSets.has(name)) {
      throw new PolicyError('scope', `names unknown value set '${name}'`);
    }
  }
  const named = new Map<string, CriterionData>();
  collectNamed(data.criteria.indications, named);
  collectNamed(data.criteria.nonIndications, named);
  const compiler = new TreeCompiler(named, factIds);
  const indications = compiler.compile(data.criteria.indications);
  const nonIndications = compiler.compile(data.criteria.nonIndications);
  checkClauseAnchors(named, text);
  const { criteria: _criteria, ...rest } = data;
  return { policy: { ...rest, indications, nonIndications }, valueSets, text, lexicon };
}

/**
 * Loads the policy shipped in the project's policy/ folder.
 * @param file - the policy file name inside policy/
 */
export function loadPolicy(file = 'cohere-ma-mri-lumbar-spine.policy.json'): LoadedPolicy {
  const policyJson = readProjectJson('policy', file) as { text?: unknown };
  const valueSetsJson = readProjectJson('policy', 'value-sets.json');
  const textFile = typeof policyJson.text === 'string' ? policyJson.text : '';
  const text = textFile ? readFileSync(join(projectRoot(), 'policy', textFile), 'utf8') : '';
  return compilePolicy(policyJson, valueSetsJson, text, loadLexicon());
}
