import type { CodeableConcept, Coding } from 'fhir/r4.js';

/** How codes of a system compare (SPEC §2 Codes). */
export type MatchRule = 'icd10-prefix' | 'exact';

export interface CodeSystemDefinition {
  readonly url: string;
  readonly match: MatchRule;
  readonly label: string;
  /**
   * Other names of the same system: codings sent with one of them match as if sent with `url` (SPEC §2 Codes: a
   * system named by its OID, `urn:oid:2.16.840.1.113883.6.12` for CPT, is the same system).
   */
  readonly aliases?: readonly string[];
  /** Codings without a system still match (DICOM modalities are often sent bare). */
  readonly systemOptional?: boolean;
}

export interface ValueSetEntryData {
  readonly system?: string;
  readonly codes?: readonly string[];
  readonly except?: readonly string[];
  readonly concepts?: readonly { readonly code: string; readonly name: string }[];
  readonly valueSet?: string;
}

export interface ValueSetsData {
  readonly systems: Readonly<Record<string, CodeSystemDefinition>>;
  readonly valueSets: Readonly<Record<string, readonly ValueSetEntryData[]>>;
}

interface CodePattern {
  /** Exact code, or prefix for ICD-10-CM. */
  readonly code?: string;
  readonly low?: string;
  readonly high?: string;
}

interface SystemMatcher {
  readonly system: CodeSystemDefinition;
  readonly include: readonly CodePattern[];
  readonly exclude: readonly CodePattern[];
}

interface CompiledValueSet {
  readonly matchers: readonly SystemMatcher[];
  /** Lower-case ingredient names matched as words in text or display (SPEC §4.1). */
  readonly names: readonly { readonly name: string; readonly pattern: RegExp }[];
}

/** Error in the value-set file; names the set so the policy author can find it. */
export class ValueSetError extends Error {
  override readonly name = 'ValueSetError';
}

/**
 * Normalises an ICD-10-CM code: trimmed, upper case, and with the dot after the third character when a
 * client sent it without one (SPEC §2: `M5416` is read as `M54.16`).
 */
export function normaliseIcd10(code: string): string {
  const compact = code.replace(/\s+/g, '').toUpperCase();
  if (!compact.includes('.') && compact.length > 3) {
    return `${compact.slice(0, 3)}.${compact.slice(3)}`;
  }
  return compact;
}

function parsePattern(text: string, rule: MatchRule): CodePattern {
  const norm = (c: string): string => (rule === 'icd10-prefix' ? normaliseIcd10(c) : c.trim());
  const dash = text.indexOf('-', 1);
  // A range is written 'A-B' with bounds of equal length; LOINC codes contain '-' too, so only split
  // when both sides have the same length and the system is not LOINC-shaped (digits-dash-digit).
  if (dash > 0 && !/^\d+-\d$/.test(text)) {
    const low = norm(text.slice(0, dash));
    const high = norm(text.slice(dash + 1));
    if (low.length === high.length) {
      return { low, high };
    }
  }
  return { code: norm(text) };
}

function patternMatches(pattern: CodePattern, code: string, rule: MatchRule): boolean {
  if (pattern.code !== undefined) {
    return rule === 'icd10-prefix' ? code.startsWith(pattern.code) : code === pattern.code;
  }
  const low = pattern.low ?? '';
  const high = pattern.high ?? '';
  // SPEC §2: the code's prefix, cut to the length of the bounds, lies between them inclusively.
  // For exact systems the whole code must have the bounds' length.
  if (rule === 'exact' && code.length !== low.length) {
    return false;
  }
  const cut = code.slice(0, low.length);
  return cut.length === low.length && cut >= low && cut <= high;
}

/** The compiled value sets of a policy: answers "is this coding in set X?". */
export class ValueSets {
  private readonly compiled = new Map<string, CompiledValueSet>();
  /** Answers already computed, by set, then system, then code: a large record repeats the same codes. */
  private readonly answers = new Map<string, Map<string | undefined, Map<string, boolean>>>();
  private remembered = 0;
  private readonly systemsByUrl = new Map<string, CodeSystemDefinition>();

  /**
   * @param data - the parsed value-set file
   */
  constructor(private readonly data: ValueSetsData) {
    for (const system of Object.values(data.systems)) {
      this.systemsByUrl.set(system.url, system);
      for (const alias of system.aliases ?? []) {
        this.systemsByUrl.set(alias, system);
      }
    }
    for (const name of Object.keys(data.valueSets)) {
      this.compiled.set(name, this.compile(name, new Set()));
    }
  }

  /** Names of every value set, for policy cross-checks. */
  get names(): readonly string[] {
    return [...this.compiled.keys()];
  }

  /** Whether a value set of that name exists. */
  has(name: string): boolean {
    return this.compiled.has(name);
  }

  /** Human label of a code system URL ("ICD-10-CM"), or the URL itself. */
  systemLabel(url: string | undefined): string {
    return (url && this.systemsByUrl.get(url.trim())?.label) ?? url ?? 'no system';
  }

  /**
   * Whether a coding is in the named value set.
   * @param name - value-set name
   * @param coding - the coding to test
   */
  codingIn(name: string, coding: Coding | undefined): boolean {
    if (!coding || typeof coding.code !== 'string') {
      return false;
    }
    const system = typeof coding.system === 'string' ? coding.system.trim() : undefined;
    let bySystem = this.answers.get(name);
    if (!bySystem) {
      bySystem = new Map();
      this.answers.set(name, bySystem);
    }
    let byCode = bySystem.get(system);
    if (!byCode) {
      byCode = new Map();
      bySystem.set(system, byCode);
    }
    const known = byCode.get(coding.code);
    if (known !== undefined) {
      return known;
    }
    const answer = this.match(name, system, coding.code);
    // Bounded: codes come from requests, so an attacker must not grow this without limit.
    if (this.remembered < 200_000) {
      byCode.set(coding.code, answer);
      this.remembered++;
    }
    return answer;
  }

  private match(name: string, sentSystem: string | undefined, rawCode: string): boolean {
    const set = this.get(name);
    // An alias (an OID) is read as the system's URL; an unknown system stays as sent and matches nothing.
    const system = sentSystem !== undefined ? (this.systemsByUrl.get(sentSystem)?.url ?? sentSystem) : undefined;
    for (const m of set.matchers) {
      if (system !== undefined ? system !== m.system.url : !m.system.systemOptional) {
        continue;
      }
      const rule = m.system.match;
      const code = rule === 'icd10-prefix' ? normaliseIcd10(rawCode) : rawCode.trim();
      if (m.include.some((p) => patternMatches(p, code, rule)) && !m.exclude.some((p) => patternMatches(p, code, rule))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first coding of a concept that is in the named set, if any.
   * @param name - value-set name
   * @param concept - a CodeableConcept (codings are tested in order)
   */
  conceptIn(name: string, concept: CodeableConcept | undefined): Coding | undefined {
    const codings = concept?.coding;
    if (!Array.isArray(codings)) {
      return undefined;
    }
    // A loop, not find with a callback: this runs for every record a rule reads, on every request.
    for (const coding of codings) {
      if (this.codingIn(name, coding)) {
        return coding;
      }
    }
    return undefined;
  }

  /**
   * The first ingredient name of the set that appears as a word in any of the texts (SPEC §4.1: product
   * codes are recognised by the ingredient's name in text or display, case-insensitive).
   * @param name - value-set name
   * @param texts - medication text and coding displays
   */
  nameIn(name: string, texts: readonly string[]): string | undefined {
    const set = this.get(name);
    for (const entry of set.names) {
      if (texts.some((t) => entry.pattern.test(t))) {
        return entry.name;
      }
    }
    return undefined;
  }

  private get(name: string): CompiledValueSet {
    const set = this.compiled.get(name);
    if (!set) {
      throw new ValueSetError(`unknown value set '${name}'`);
    }
    return set;
  }

  private compile(name: string, visiting: Set<string>): CompiledValueSet {
    const entries = this.data.valueSets[name];
    if (!entries) {
      throw new ValueSetError(`unknown value set '${name}'`);
    }
    if (visiting.has(name)) {
      throw new ValueSetError(`value set '${name}' includes itself`);
    }
    visiting.add(name);
    const matchers: SystemMatcher[] = [];
    const names: { name: string; pattern: RegExp }[] = [];
    for (const entry of entries) {
      if (entry.valueSet !== undefined) {
        const included = this.compile(entry.valueSet, visiting);
        matchers.push(...included.matchers);
        names.push(...included.names);
        continue;
      }
      const system = entry.system !== undefined ? this.data.systems[entry.system] : undefined;
      if (!system) {
        throw new ValueSetError(`value set '${name}' names unknown system '${entry.system ?? ''}'`);
      }
      const codes = [...(entry.codes ?? []), ...(entry.concepts ?? []).map((c) => c.code)];
      matchers.push({
        system,
        include: codes.map((c) => parsePattern(c, system.match)),
        exclude: (entry.except ?? []).map((c) => parsePattern(c, system.match)),
      });
      for (const concept of entry.concepts ?? []) {
        const word = concept.name.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push({ name: concept.name, pattern: new RegExp(`\\b${word}\\b`, 'i') });
      }
    }
    visiting.delete(name);
    return { matchers, names };
  }
}
