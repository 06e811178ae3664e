// The notes lexicon (policy/notes-lexicon.json): validated at the boundary, then compiled into one vocabulary and a
// few tries so that reading a note is a hash lookup per word. Every clinical word the reader knows comes from here
// (SPEC §8.2 headers, §8.3 triggers, §8.5 phrase sets, §8.6 care vocabulary).
import { parsePattern, Trie, type Pattern } from './patterns.js';
import { Vocabulary, wordKey } from './text.js';

/** The lexicon file is wrong; `where` names the entry at fault (a JSON path such as `phraseSets["rf.fever"].phrases`). */
export class LexiconError extends Error {
  override readonly name = 'LexiconError';
  /**
   * @param where - the entry at fault
   * @param message - what is wrong with it
   */
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`notes lexicon ${where}: ${message}`);
  }
}

/** Assertion flags a section or a trigger can set (§8.3). */
export type Category = 'negated' | 'possible' | 'hypothetical' | 'historical' | 'other';
/** What a section header does to every mention under it (§8.2). */
export type SectionEffect = Exclude<Category, 'negated' | 'possible'> | 'none';
/** Flags a fact may accept in an affirming mention (§8.4, §8.5 "accepts"). */
export type AcceptableFlag = 'possible' | 'hypothetical' | 'historical';

export const CATEGORIES: readonly Category[] = ['negated', 'possible', 'hypothetical', 'historical', 'other'];
/** Category index of the termination terms (after the five flag categories). */
export const TERMINATION = 5;
const EFFECTS: readonly SectionEffect[] = ['other', 'historical', 'hypothetical', 'none'];
const ACCEPTABLE: readonly AcceptableFlag[] = ['possible', 'hypothetical', 'historical'];

/** Bit of a flag in a mention's flag mask. */
export const FLAG_BIT: Readonly<Record<Category, number>> = { negated: 1, possible: 2, hypothetical: 4, historical: 8, other: 16 };

/** What a phrase of a set is (§8.5): a finding, a phrase negating by itself, or one that counts for nothing. */
export type PhraseKind = 'finding' | 'negating' | 'not-counted' | 'modality';

/** What a pattern of the matcher is: a pseudo-trigger, a phrase of a set, or a trigger (termination included). */
export const M_PSEUDO = 0;
export const M_PHRASE = 1;
export const M_TRIGGER = 2;

/** The meaning of a matcher pattern (one shape for all three types, so the hot loops stay monomorphic). */
export interface MatchPayload {
  readonly type: number;
  /** For a phrase: what it is. */
  readonly kind: PhraseKind;
  /** For a phrase: set index (`Lexicon.sets`), or `Lexicon.modalitySet` for §8.6 modalities; else -1. */
  readonly set: number;
  /** For a trigger: its rules; else empty. */
  readonly rules: readonly TriggerRule[];
}

const NO_RULES: readonly TriggerRule[] = [];

/** A phrase payload. */
export function phrasePayload(kind: PhraseKind, set: number): MatchPayload {
  return { type: M_PHRASE, kind, set, rules: NO_RULES };
}

/** One direction of one trigger: category index (0–4, or TERMINATION) and reach in words (Infinity = sentence). */
export interface TriggerRule {
  readonly category: number;
  readonly forward: number;
  readonly backward: number;
}

/** A phrase set as the policy refers to it. */
export interface PhraseSetInfo {
  readonly name: string;
  /** Matched only when the caller asks for it (§8.4: facts that read only certain DiagnosticReports). */
  readonly restricted: boolean;
  /** §8.5 window, recorded as documentation (the policy's evidence rules decide). */
  readonly window: string;
  /** §8.5 accepted flags, recorded as documentation. */
  readonly accepts: readonly AcceptableFlag[];
  /** Sets whose counted findings are also possible-only mentions of this set (§8.5 rf.suspected-tumor). */
  readonly alsoPossibleFrom: readonly string[];
}

/** The compiled §8.6 vocabulary. */
export interface CareLexicon {
  readonly numbers: ReadonlyMap<number, number>;
  readonly units: ReadonlyMap<number, number>;
  /** Unit word keys, for numbers with the unit glued on ("6wks"). */
  readonly unitKeys: ReadonlyMap<string, number>;
  readonly ranges: ReadonlySet<number>;
  readonly connectors: readonly Pattern[];
  readonly glued: readonly string[];
  readonly maxWordsBetween: number;
  readonly durationOf: ReadonlySet<number>;
  readonly courses: ReadonlySet<number>;
  readonly modifiers: ReadonlySet<number>;
  readonly since: ReadonlySet<number>;
  readonly started: ReadonlySet<number>;
  readonly startedOn: ReadonlySet<number>;
  readonly ago: ReadonlySet<number>;
  readonly blockingSets: readonly number[];
  readonly months: ReadonlyMap<number, number>;
}

/** A compiled lexicon: everything the reader matches. Build it with `compileLexicon`. */
export interface Lexicon {
  readonly version: string;
  readonly vocab: Vocabulary;
  readonly sets: readonly PhraseSetInfo[];
  readonly setIndex: ReadonlyMap<string, number>;
  /** The set index used for §8.6 modality phrases (one past the last phrase set). */
  readonly modalitySet: number;
  /** Sets matched when the caller names none: every set not restricted. */
  readonly defaultSets: ReadonlySet<string>;
  /** Pseudo-triggers, phrases (sets and modalities) and triggers in one trie: one walk per word (§8.2). */
  readonly matcher: Trie<MatchPayload>;
  /** Sets names by index (`sets[i].name`). */
  readonly setNames: readonly string[];
  readonly headers: Trie<SectionEffect>;
  readonly maxHeaderWords: number;
  readonly abbreviations: ReadonlySet<string>;
  readonly beforeDigit: ReadonlySet<string>;
  /** Length of the longest abbreviation (the sentence splitter reads no further back). */
  readonly longestAbbreviation: number;
  /** 1 at (length << 7 | first letter) of every abbreviation: most words before a '.' are ruled out without a string. */
  readonly abbreviationKeys: Uint8Array;
  readonly care: CareLexicon;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation: the file is external input. Each check names the entry at fault.

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, where: string, keys: readonly string[], required: readonly string[] = keys): Json {
  if (!isObject(v)) {
    throw new LexiconError(where, 'must be an object');
  }
  for (const k of Object.keys(v)) {
    if (!k.startsWith('$') && !keys.includes(k)) {
      throw new LexiconError(`${where}.${k}`, `unknown entry (expected one of ${keys.join(', ')})`);
    }
  }
  for (const k of required) {
    if (!(k in v)) {
      throw new LexiconError(`${where}.${k}`, 'is missing');
    }
  }
  return v;
}

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) {
    throw new LexiconError(where, 'must be an array of strings');
  }
  return v.map((s, i) => {
    if (typeof s !== 'string' || s.trim() === '') {
      throw new LexiconError(`${where}[${i}]`, 'must be a non-empty string');
    }
    return s.trim();
  });
}

function positiveInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new LexiconError(where, 'must be a positive integer');
  }
  return v;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new LexiconError(where, 'must be a non-empty string');
  }
  return v;
}

/** A `{spec, added?, why?}` list: SPEC entries and the service's additions (each addition explained). */
function listed(v: unknown, where: string): string[] {
  const o = object(v, where, ['spec', 'added', 'why'], ['spec']);
  const spec = strings(o.spec, `${where}.spec`);
  if (o.added === undefined) {
    return spec;
  }
  const added = strings(o.added, `${where}.added`);
  text(o.why, `${where}.why`);
  const inSpec = new Set(spec.map((s) => s.toLowerCase()));
  added.forEach((a, i) => {
    if (inSpec.has(a.toLowerCase())) {
      throw new LexiconError(`${where}.added[${i}]`, `"${a}" is already in the SPEC list`);
    }
  });
  return [...spec, ...added];
}

/** A `{spec: {word: n}, added?, why?}` map. */
function listedMap(v: unknown, where: string): Map<string, number> {
  const o = object(v, where, ['spec', 'added', 'why'], ['spec']);
  const out = new Map<string, number>();
  const read = (m: unknown, w: string): void => {
    if (!isObject(m)) {
      throw new LexiconError(w, 'must be an object of word → number');
    }
    for (const [k, n] of Object.entries(m)) {
      if (k.trim() === '') {
        throw new LexiconError(w, 'has an empty word');
      }
      if (out.has(k.toLowerCase())) {
        throw new LexiconError(`${w}.${k}`, 'is listed twice');
      }
      if (/[\s\-/]/.test(k)) {
        throw new LexiconError(`${w}.${k}`, 'must be a single word');
      }
      out.set(k.toLowerCase(), positiveInt(n, `${w}.${k}`));
    }
  };
  read(o.spec, `${where}.spec`);
  if (o.added !== undefined) {
    read(o.added, `${where}.added`);
    text(o.why, `${where}.why`);
  }
  return out;
}

function enumOf<T extends string>(v: unknown, options: readonly T[], where: string): T {
  const found = options.find((o) => o === v);
  if (found === undefined) {
    throw new LexiconError(where, `must be one of ${options.join(', ')}`);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation.

function must(p: Pattern | null, where: string, phrase: string): Pattern {
  if (p === null) {
    throw new LexiconError(where, `"${phrase}" has no word`);
  }
  return p;
}

function ids(words: readonly string[], vocab: Vocabulary): Set<number> {
  return new Set(words.map((w) => vocab.add(wordKey(w))));
}

function single(words: readonly string[], where: string): void {
  words.forEach((w, i) => {
    if (/[\s\-/]/.test(w)) {
      throw new LexiconError(`${where}[${i}]`, `"${w}" must be a single word`);
    }
  });
}

function abbreviationKeys(words: readonly string[]): Uint8Array {
  const keys = new Uint8Array(128 * 64);
  for (const w of words) {
    if (w.length < 64) {
      keys[(w.length << 7) | (w.charCodeAt(0) & 127 | 32)] = 1;
    }
  }
  return keys;
}

/**
 * Validates and compiles lexicon data (the parsed policy/notes-lexicon.json).
 *
 * @param data - the parsed JSON
 * @returns the compiled lexicon
 * @throws LexiconError naming the entry at fault
 */
export function compileLexicon(data: unknown): Lexicon {
  const root = object(data, 'lexicon', ['version', 'sections', 'sentences', 'context', 'negatingCopulas', 'phraseSets', 'care']);
  const version = text(root.version, 'version');
  const vocab = new Vocabulary();

  // §8.2 sections
  const sections = object(root.sections, 'sections', ['maxHeaderWords', 'groups']);
  const maxHeaderWords = positiveInt(sections.maxHeaderWords, 'sections.maxHeaderWords');
  if (!Array.isArray(sections.groups)) {
    throw new LexiconError('sections.groups', 'must be an array');
  }
  const headers = new Trie<SectionEffect>();
  const seenHeaders = new Map<string, string>();
  sections.groups.forEach((g: unknown, gi: number) => {
    const where = `sections.groups[${gi}]`;
    const group = object(g, where, ['effect', 'headers']);
    const effect = enumOf(group.effect, EFFECTS, `${where}.effect`);
    for (const h of listed(group.headers, `${where}.headers`)) {
      const key = h.toLowerCase();
      const before = seenHeaders.get(key);
      if (before !== undefined) {
        throw new LexiconError(`${where}.headers`, `"${h}" is already a header (${before})`);
      }
      seenHeaders.set(key, effect);
      headers.add(must(parsePattern(h, vocab, false), `${where}.headers`, h), effect);
    }
  });

  // §8.2 sentences
  const sentences = object(root.sentences, 'sentences', ['abbreviations', 'beforeDigit']);
  const abbreviations = new Set(listed(sentences.abbreviations, 'sentences.abbreviations').map((a) => a.toLowerCase().replace(/\.$/, '')));
  const beforeDigit = new Set(listed(sentences.beforeDigit, 'sentences.beforeDigit').map((a) => a.toLowerCase().replace(/\.$/, '')));

  // §8.3 triggers, termination, pseudo-triggers
  const context = object(root.context, 'context', ['backwardMaxWords', 'triggers', 'termination', 'pseudo']);
  const backwardMax = positiveInt(context.backwardMaxWords, 'context.backwardMaxWords');
  if (!Array.isArray(context.triggers)) {
    throw new LexiconError('context.triggers', 'must be an array');
  }
  const triggerRules = new Map<string, { pattern: Pattern; rules: TriggerRule[]; where: string }>();
  const addTrigger = (phrase: string, rule: TriggerRule, where: string): void => {
    const pattern = must(parsePattern(phrase, vocab, false), where, phrase);
    const key = `${pattern.colon ? ':' : ''}${pattern.words.join(' ')}|${pattern.gaps.join(' ')}`;
    const entry = triggerRules.get(key);
    if (entry === undefined) {
      triggerRules.set(key, { pattern, rules: [rule], where });
      return;
    }
    const same = entry.rules.find((r) => r.category === rule.category);
    if (same === undefined) {
      entry.rules.push(rule);
      return;
    }
    // A trigger listed in both columns applies in both directions (§8.3).
    const overlap = (same.forward >= 0 && rule.forward >= 0) || (same.backward >= 0 && rule.backward >= 0);
    if (overlap) {
      throw new LexiconError(where, `"${phrase}" is listed twice for the same direction (first in ${entry.where})`);
    }
    entry.rules[entry.rules.indexOf(same)] = {
      category: rule.category,
      forward: same.forward >= 0 ? same.forward : rule.forward,
      backward: same.backward >= 0 ? same.backward : rule.backward,
    };
  };
  context.triggers.forEach((g: unknown, gi: number) => {
    const where = `context.triggers[${gi}]`;
    const group = object(g, where, ['category', 'direction', 'maxWords', 'phrases'], ['category', 'direction', 'phrases']);
    const category = CATEGORIES.indexOf(enumOf(group.category, CATEGORIES, `${where}.category`));
    const direction = enumOf(group.direction, ['forward', 'backward', 'both'] as const, `${where}.direction`);
    const reach = group.maxWords === undefined ? undefined : positiveInt(group.maxWords, `${where}.maxWords`);
    const forward = direction === 'backward' ? -1 : (reach ?? Infinity);
    const backward = direction === 'forward' ? -1 : (reach ?? backwardMax);
    for (const phrase of listed(group.phrases, `${where}.phrases`)) {
      if (phrase.startsWith(':') && direction !== 'backward') {
        throw new LexiconError(`${where}.phrases`, `"${phrase}": the ': x' form is a backward trigger`);
      }
      addTrigger(phrase, { category, forward, backward }, `${where}.phrases`);
    }
  });
  for (const phrase of listed(context.termination, 'context.termination')) {
    addTrigger(phrase, { category: TERMINATION, forward: Infinity, backward: Infinity }, 'context.termination');
  }
  const matcher = new Trie<MatchPayload>();
  triggerRules.forEach(({ pattern, rules }) => matcher.add(pattern, { type: M_TRIGGER, kind: 'finding', set: -1, rules }));
  const seenPseudo = new Set<string>();
  for (const phrase of listed(context.pseudo, 'context.pseudo')) {
    if (seenPseudo.has(phrase.toLowerCase())) {
      throw new LexiconError('context.pseudo', `"${phrase}" is listed twice`);
    }
    seenPseudo.add(phrase.toLowerCase());
    matcher.add(must(parsePattern(phrase, vocab, false), 'context.pseudo', phrase), { type: M_PSEUDO, kind: 'finding', set: -1, rules: NO_RULES });
  }

  // §8.2 negating phrases with a copula ("rectal tone is intact")
  const copulaData = object(root.negatingCopulas, 'negatingCopulas', ['lastWords', 'copulas']);
  const lastWords = new Set(listed(copulaData.lastWords, 'negatingCopulas.lastWords').map((w) => w.toLowerCase()));
  const copulas = listed(copulaData.copulas, 'negatingCopulas.copulas');

  // §8.5 phrase sets
  const setsData = root.phraseSets;
  if (!isObject(setsData) || Object.keys(setsData).length === 0) {
    throw new LexiconError('phraseSets', 'must be a non-empty object of set name → set');
  }
  const names = Object.keys(setsData).filter((k) => !k.startsWith('$'));
  const setIndex = new Map(names.map((n, i) => [n, i]));
  const modalitySet = names.length;
  const sets: PhraseSetInfo[] = names.map((name, si) => {
    const where = `phraseSets["${name}"]`;
    const s = object(setsData[name], where, ['window', 'accepts', 'restricted', 'phrases', 'negating', 'notCounted', 'alsoPossibleFrom'], ['phrases']);
    const accepts = s.accepts === undefined ? [] : strings(s.accepts, `${where}.accepts`).map((a, i) => enumOf(a, ACCEPTABLE, `${where}.accepts[${i}]`));
    const restricted = s.restricted === undefined ? false : s.restricted === true ? true : s.restricted === false ? false : undefined;
    if (restricted === undefined) {
      throw new LexiconError(`${where}.restricted`, 'must be true or false');
    }
    const alsoPossibleFrom = s.alsoPossibleFrom === undefined ? [] : strings(s.alsoPossibleFrom, `${where}.alsoPossibleFrom`);
    alsoPossibleFrom.forEach((from, i) => {
      if (!setIndex.has(from) || from === name) {
        throw new LexiconError(`${where}.alsoPossibleFrom[${i}]`, `"${from}" is not another phrase set`);
      }
    });
    const seen = new Map<string, string>();
    const addPhrases = (field: string, kind: PhraseKind): void => {
      if (s[field] === undefined) {
        return;
      }
      for (const phrase of listed(s[field], `${where}.${field}`)) {
        const variants = [phrase];
        const words = phrase.split(/\s+/);
        const last = words[words.length - 1]?.toLowerCase() ?? '';
        if (kind === 'negating' && words.length > 1 && lastWords.has(last)) {
          for (const c of copulas) {
            variants.push([...words.slice(0, -1), c, words[words.length - 1]].join(' '));
          }
        }
        variants.forEach((v, vi) => {
          const key = v.toLowerCase().replace(/[\s\-/]+/g, ' ');
          const before = seen.get(key);
          if (before !== undefined) {
            if (vi === 0) {
              throw new LexiconError(`${where}.${field}`, `"${phrase}" is already listed (${before})`);
            }
            return; // a copula variant the list already spells out
          }
          seen.set(key, field);
          matcher.add(must(parsePattern(v, vocab, true), `${where}.${field}`, v), phrasePayload(kind, si));
        });
      }
    };
    addPhrases('phrases', 'finding');
    addPhrases('negating', 'negating');
    addPhrases('notCounted', 'not-counted');
    return {
      name,
      restricted,
      window: s.window === undefined ? '' : text(s.window, `${where}.window`),
      accepts,
      alsoPossibleFrom,
    };
  });
  const defaultSets = new Set(sets.filter((s) => !s.restricted).map((s) => s.name));

  // §8.6 care
  const c = object(root.care, 'care', [
    'modalities', 'numbers', 'units', 'ranges', 'connectors', 'gluedConnectors', 'maxWordsBetween', 'durationOf', 'courses',
    'modifiers', 'since', 'started', 'startedOn', 'ago', 'blockingSets', 'months',
  ]);
  const seenModalities = new Set<string>();
  for (const m of listed(c.modalities, 'care.modalities')) {
    const key = m.toLowerCase();
    if (seenModalities.has(key)) {
      throw new LexiconError('care.modalities', `"${m}" is listed twice`);
    }
    seenModalities.add(key);
    matcher.add(must(parsePattern(m, vocab, true), 'care.modalities', m), phrasePayload('modality', modalitySet));
  }
  const toIds = (m: Map<string, number>): Map<number, number> => new Map([...m].map(([k, v]) => [vocab.add(wordKey(k)), v]));
  const unitWords = listedMap(c.units, 'care.units');
  const numberWords = listedMap(c.numbers, 'care.numbers');
  const monthWords = listedMap(c.months, 'care.months');
  monthWords.forEach((m, k) => {
    if (m > 12) {
      throw new LexiconError(`care.months.${k}`, 'must be a month number 1–12');
    }
  });
  const singleWords = (field: string): Set<number> => {
    const words = listed(c[field], `care.${field}`);
    single(words, `care.${field}`);
    return ids(words, vocab);
  };
  if (!Array.isArray(c.blockingSets)) {
    throw new LexiconError('care.blockingSets', 'must be an array of phrase set names');
  }
  const blockingSets = strings(c.blockingSets, 'care.blockingSets').map((name, i) => {
    const si = setIndex.get(name);
    if (si === undefined) {
      throw new LexiconError(`care.blockingSets[${i}]`, `"${name}" is not a phrase set`);
    }
    return si;
  });
  const glued = listed(c.gluedConnectors, 'care.gluedConnectors').map((g) => g.toLowerCase());
  single(glued, 'care.gluedConnectors');
  const care: CareLexicon = {
    numbers: toIds(numberWords),
    units: toIds(unitWords),
    unitKeys: new Map([...unitWords].map(([k, v]) => [wordKey(k), v])),
    ranges: singleWords('ranges'),
    connectors: listed(c.connectors, 'care.connectors').map((p) => must(parsePattern(p, vocab, false), 'care.connectors', p)),
    glued,
    maxWordsBetween: positiveInt(c.maxWordsBetween, 'care.maxWordsBetween'),
    durationOf: singleWords('durationOf'),
    courses: singleWords('courses'),
    modifiers: singleWords('modifiers'),
    since: singleWords('since'),
    started: singleWords('started'),
    startedOn: singleWords('startedOn'),
    ago: singleWords('ago'),
    blockingSets,
    months: toIds(monthWords),
  };
  glued.forEach((g) => vocab.add(g));

  vocab.seal();
  headers.seal(vocab.size);
  matcher.seal(vocab.size);
  return {
    version,
    vocab,
    sets,
    setIndex,
    modalitySet,
    defaultSets,
    matcher,
    setNames: sets.map((x) => x.name),
    headers,
    maxHeaderWords,
    abbreviations,
    beforeDigit,
    longestAbbreviation: Math.max(0, ...[...abbreviations, ...beforeDigit].map((a) => a.length)),
    abbreviationKeys: abbreviationKeys([...abbreviations, ...beforeDigit]),
    care,
  };
}
