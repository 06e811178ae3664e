// The notes pipeline (SPEC §8): HTML → text → lines and sections → sentences → pseudo-triggers → phrases (mentions)
// → triggers → assertion flags → conservative care. Pure and synchronous: a string in, a reading out.
import { bindCare, type CareBinding } from './care.js';
import { assertFlags } from './context.js';
import { htmlToText, type PlainText } from './html.js';
import { FLAG_BIT, LexiconError, phrasePayload, type Lexicon, type MatchPayload } from './lexicon.js';
import { collect, markPseudo, selectPhrases, selectTriggers, type PhraseHit, type TriggerHit } from './match.js';
import { parsePattern, Trie } from './patterns.js';
import { B_LABEL, B_PSEUDO, layout, type Layout } from './sections.js';
import { S_BLOCKED, S_BLOCKERS, scratchBytes } from './scratch.js';
import { tokenize, wordKey, C_WORD, charClass, type Tokens, type Vocabulary } from './text.js';

/** A sentence, as plain-text offsets (end exclusive). */
export interface SentenceRange {
  readonly start: number;
  readonly end: number;
}

/** The five assertion flags of §8.3. */
export interface AssertionFlags {
  readonly negated: boolean;
  readonly possible: boolean;
  readonly hypothetical: boolean;
  readonly historical: boolean;
  /** The experiencer is not the patient. */
  readonly other: boolean;
}

/** Where a phrase lies: in the original text (HTML markup included) and in the plain text. UTF-16, end exclusive. */
export interface TextSpan {
  readonly start: number;
  readonly end: number;
  readonly plainStart: number;
  readonly plainEnd: number;
}

/** An occurrence of a phrase of a set, with its assertion (§8.2, §8.3). */
export interface Mention extends AssertionFlags, TextSpan {
  /** The phrase set (the policy's name for it: a fact id, or fact id + '#' + part). */
  readonly set: string;
  /** A finding, or a phrase negating by itself (§8.5 "negating phrases": "afebrile", "rectal tone intact"). */
  readonly kind: 'finding' | 'negating-phrase';
  /** Present on a mention taken from another set's phrase that counts only as possible (§8.5 alsoPossible). */
  readonly possibleOnly?: true;
  /** The lexicon phrase that matched (as the lexicon writes it). */
  readonly phrase: string;
  readonly sentence: SentenceRange;
  /** A negation trigger scopes the mention; for a negating phrase this means it is ignored (§8.4). */
  readonly scopedByNegation: boolean;
}

/** A conservative-care modality bound to a duration or a start date in its sentence (§8.6). */
export type CareMention = AssertionFlags &
  CareBinding & {
    /** The modality phrase: the evidence span of the record (§8.6). */
    readonly modality: TextSpan & { readonly phrase: string };
    readonly sentence: SentenceRange;
  };

/** What `readNote` found in one text. */
export interface NoteReading {
  /** The plain text (HTML converted); `plainStart`/`plainEnd` and sentence ranges index it. */
  readonly text: string;
  readonly mentions: readonly Mention[];
  readonly care: readonly CareMention[];
  /** Plain offset → original offset (the start of the original that produced that plain character). */
  toOriginal(plainOffset: number): number;
  /** Plain end offset (exclusive) → original end offset (exclusive). */
  toOriginalEnd(plainEnd: number): number;
  /** The sentence containing a plain offset, if any. */
  sentenceAt(plainOffset: number): SentenceRange | undefined;
}

/** How to read a text. */
export interface ReadOptions {
  /** The text is HTML (§8.1). */
  readonly html: boolean;
  /** The note's date (epoch ms): resolves dates written without a year ("since September"). */
  readonly noteDate?: number;
  /** Phrase sets to report; default every set not restricted. Unknown names throw a LexiconError. */
  readonly sets?: ReadonlySet<string>;
}

/** The shared analysis of readNote and assertionOf. */
interface Analysis {
  readonly t: Tokens;
  readonly lay: Layout;
  readonly hits: PhraseHit[];
  readonly triggers: TriggerHit[];
}

function analyse(text: string, lex: Lexicon, vocab: Vocabulary, tries: readonly Trie<MatchPayload>[], wanted: Uint8Array, fallback: boolean): Analysis {
  const t = tokenize(text, vocab);
  const blocked = scratchBytes(S_BLOCKED, t.count);
  const lay = layout(text, t, lex, blocked);
  const c = collect(text, t, lay, tries, wanted);
  markPseudo(c, blocked);
  let hits = selectPhrases(c, blocked, B_LABEL | B_PSEUDO);
  if (fallback && hits.length === 0) {
    // §8.7: a target inside a pseudo-trigger or a header label is still the target
    hits = selectPhrases(c, blocked, B_LABEL);
    if (hits.length === 0) {
      hits = selectPhrases(c, blocked, 0);
    }
  }
  const triggers = selectTriggers(c, blocked);
  assertFlags(hits, triggers, lay);
  for (const h of hits) {
    h.flags |= lay.effect[lay.sentenceOf[h.i] ?? 0] ?? 0;
  }
  return { t, lay, hits, triggers };
}

/** Which sets to report and to match for a `sets` option, and which sets take others' possible mentions. */
interface Selection {
  readonly report: Uint8Array;
  readonly wanted: Uint8Array;
  /** Per source set: the reported sets that take its counted findings as possible-only mentions (§8.5). */
  readonly takers: readonly (readonly number[] | undefined)[];
  /** Size of the set it was made for (a caller's set is read-only by contract; this catches the careless). */
  readonly size: number;
}

const selections = new WeakMap<Lexicon, WeakMap<ReadonlySet<string>, Selection>>();

/** The selection for a lexicon and a `sets` option, computed once per pair (notes are read by the hundred). */
function selection(lexicon: Lexicon, sets: ReadonlySet<string> | undefined): Selection {
  const requested = sets ?? lexicon.defaultSets;
  let byLexicon = selections.get(lexicon);
  if (byLexicon === undefined) {
    byLexicon = new WeakMap();
    selections.set(lexicon, byLexicon);
  }
  const known = byLexicon.get(requested);
  if (known !== undefined && known.size === requested.size) {
    return known;
  }
  const report = new Uint8Array(lexicon.modalitySet + 1);
  const wanted = new Uint8Array(lexicon.modalitySet + 1);
  const takers: number[][] = [];
  for (const name of requested) {
    const si = lexicon.setIndex.get(name);
    if (si === undefined) {
      throw new LexiconError('sets', `"${name}" is not a phrase set of the lexicon`);
    }
    report[si] = 1;
    wanted[si] = 1;
    for (const from of lexicon.sets[si]?.alsoPossibleFrom ?? []) {
      const fi = lexicon.setIndex.get(from) ?? 0;
      wanted[fi] = 1;
      (takers[fi] ??= []).push(si);
    }
  }
  // Every unrestricted set is matched whatever is reported, so that which words are mentions (and so which are
  // triggers) does not depend on the sets a caller asks for; care needs modalities and its blocking sets.
  lexicon.defaultSets.forEach((name) => {
    wanted[lexicon.setIndex.get(name) ?? 0] = 1;
  });
  wanted[lexicon.modalitySet] = 1;
  const made: Selection = { report, wanted, takers, size: requested.size };
  byLexicon.set(requested, made);
  return made;
}

function flagsOf(flags: number): AssertionFlags {
  return {
    negated: (flags & FLAG_BIT.negated) !== 0,
    possible: (flags & FLAG_BIT.possible) !== 0,
    hypothetical: (flags & FLAG_BIT.hypothetical) !== 0,
    historical: (flags & FLAG_BIT.historical) !== 0,
    other: (flags & FLAG_BIT.other) !== 0,
  };
}

/** Binary search of the sentence holding a plain offset, in [start0, end0, start1, end1, …]. */
function sentenceIndex(bounds: Int32Array, offset: number): number {
  let lo = 0;
  let hi = (bounds.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((bounds[2 * mid + 1] ?? 0) <= offset) {
      lo = mid + 1;
    } else if ((bounds[2 * mid] ?? 0) > offset) {
      hi = mid - 1;
    } else {
      return mid;
    }
  }
  return -1;
}

/**
 * Reads one note (SPEC §8.1–§8.3, §8.6): its mentions of the lexicon's phrase sets with their assertion flags, and
 * its conservative-care records. Never throws on any text.
 *
 * @param text - the note as stored (plain text, or HTML when `options.html`)
 * @param lexicon - the compiled lexicon
 * @param options - HTML or not, the note's date, the phrase sets to report
 * @returns the reading
 */
export function readNote(text: string, lexicon: Lexicon, options: ReadOptions): NoteReading {
  const plain: PlainText | null = options.html ? htmlToText(text) : null;
  const ptext = plain?.text ?? text;
  const { report, wanted, takers } = selection(lexicon, options.sets);
  const a = analyse(ptext, lexicon, lexicon.vocab, [lexicon.matcher], wanted, false);
  const { t, lay } = a;

  const toOriginal = (p: number): number => {
    if (plain === null) {
      return p;
    }
    const m = plain.from.length;
    return m === 0 ? 0 : p < m ? (plain.from[Math.max(0, p)] ?? 0) : (plain.to[m - 1] ?? 0);
  };
  const toOriginalEnd = (p: number): number => {
    if (plain === null) {
      return p;
    }
    return p <= 0 ? (plain.from[0] ?? 0) : (plain.to[Math.min(p, plain.to.length) - 1] ?? 0);
  };
  const sentences: (SentenceRange | undefined)[] = new Array<SentenceRange | undefined>(lay.count);
  const sentenceRange = (s: number): SentenceRange => {
    let r = sentences[s];
    if (r === undefined) {
      r = { start: lay.start[s] ?? 0, end: lay.end[s] ?? 0 };
      sentences[s] = r;
    }
    return r;
  };
  const mention = (set: string, h: PhraseHit, possibleOnly: boolean): Mention => {
    const plainStart = t.start[h.i] ?? 0;
    const plainEnd = t.end[h.j] ?? 0;
    const negated = (h.flags & FLAG_BIT.negated) !== 0;
    const m: Mention = {
      set,
      kind: h.kind === 'negating' ? 'negating-phrase' : 'finding',
      phrase: h.phrase,
      start: toOriginal(plainStart),
      end: toOriginalEnd(plainEnd),
      plainStart,
      plainEnd,
      sentence: sentenceRange(lay.sentenceOf[h.i] ?? 0),
      negated,
      possible: (h.flags & FLAG_BIT.possible) !== 0,
      hypothetical: (h.flags & FLAG_BIT.hypothetical) !== 0,
      historical: (h.flags & FLAG_BIT.historical) !== 0,
      other: (h.flags & FLAG_BIT.other) !== 0,
      scopedByNegation: !possibleOnly && negated,
    };
    return possibleOnly ? { ...m, possibleOnly: true } : m;
  };

  const mentions: Mention[] = [];
  const names = lexicon.setNames;
  let taken = false;
  for (const h of a.hits) {
    if (h.set !== lexicon.modalitySet && (report[h.set] ?? 0) !== 0) {
      mentions.push(mention(names[h.set] ?? '', h, false));
    }
    const to = takers[h.set];
    if (to === undefined || h.kind !== 'finding' || (h.flags & FLAG_BIT.possible) === 0 || (h.flags & FLAG_BIT.negated) !== 0) {
      continue;
    }
    for (const si of to) {
      // unless the set has a mention of its own of these words, or another source gave it one
      const own = a.hits.some((o) => o.set === si && o.i === h.i && o.j === h.j);
      const given = mentions.some((m) => m.set === names[si] && m.possibleOnly === true && m.plainStart === (t.start[h.i] ?? 0) && m.plainEnd === (t.end[h.j] ?? 0));
      if (!own && !given) {
        mentions.push(mention(names[si] ?? '', h, true));
        taken = true;
      }
    }
  }
  if (taken) {
    // text order, then set order, as the hits are
    const order = lexicon.setIndex;
    mentions.sort((x, y) => x.plainStart - y.plainStart || (order.get(x.set) ?? 0) - (order.get(y.set) ?? 0));
  }

  // §8.6: what a binding may not cross
  const blockers = scratchBytes(S_BLOCKERS, t.count);
  const blocking = lexicon.care.blockingSets;
  for (const h of a.hits) {
    if (h.set === lexicon.modalitySet || (h.kind === 'finding' && blocking.includes(h.set))) {
      for (let k = h.i; k <= h.j; k++) {
        blockers[k] = 1;
      }
    }
  }
  for (const tr of a.triggers) {
    if (tr.terminates) {
      for (let k = tr.i; k <= tr.j; k++) {
        blockers[k] = 1;
      }
    }
  }
  const care: CareMention[] = [];
  for (const h of a.hits) {
    if (h.set !== lexicon.modalitySet) {
      continue;
    }
    const bound = bindCare(ptext, t, lay, lexicon.care, blockers, h.i, h.j, options.noteDate);
    if (bound !== null) {
      const plainStart = t.start[h.i] ?? 0;
      const plainEnd = t.end[h.j] ?? 0;
      care.push({
        modality: { start: toOriginal(plainStart), end: toOriginalEnd(plainEnd), plainStart, plainEnd, phrase: h.phrase },
        sentence: sentenceRange(lay.sentenceOf[h.i] ?? 0),
        ...flagsOf(h.flags),
        ...bound,
      });
    }
  }

  // the layout's arrays are scratch: the reading keeps its own copy of the sentence bounds
  const bounds = new Int32Array(2 * lay.count);
  for (let s = 0; s < lay.count; s++) {
    bounds[2 * s] = lay.start[s] ?? 0;
    bounds[2 * s + 1] = lay.end[s] ?? 0;
  }
  return {
    text: ptext,
    mentions,
    care,
    toOriginal,
    toOriginalEnd,
    sentenceAt(offset: number): SentenceRange | undefined {
      const s = sentenceIndex(bounds, offset);
      return s < 0 ? undefined : { start: bounds[2 * s] ?? 0, end: bounds[2 * s + 1] ?? 0 };
    },
  };
}

/** How `read-sentence` reports a target (§8.7). */
export type SentenceAssertion =
  | { readonly found: false }
  | {
      readonly found: true;
      readonly negated: boolean;
      readonly possible: boolean;
      readonly hypothetical: boolean;
      readonly historical: boolean;
      readonly experiencer: 'patient' | 'other';
    };

/**
 * The assertion of the first occurrence of `target` in `text` (§8.7): the target is matched as a phrase is (§8.2:
 * case-insensitive unless written in capitals, flexible separators, a plural on its last word) whatever the
 * lexicon, then the lexicon's sections and triggers apply to it as to a mention.
 *
 * @param text - plain text (one sentence or more)
 * @param target - the phrase to look for
 * @param lexicon - the compiled lexicon (triggers, sections, pseudo-triggers)
 * @returns found false, or the flags of the first occurrence
 */
export function assertionOf(text: string, target: string, lexicon: Lexicon): SentenceAssertion {
  const words: string[] = [];
  let w = -1;
  for (let i = 0; i <= target.length; i++) {
    const isWord = i < target.length && (charClass(target.charCodeAt(i)) & C_WORD) !== 0;
    if (isWord && w < 0) {
      w = i;
    } else if (!isWord && w >= 0) {
      words.push(wordKey(target.slice(w, i)));
      w = -1;
    }
  }
  if (words.length === 0) {
    return { found: false };
  }
  const vocab = lexicon.vocab.withWords(words);
  const pattern = parsePattern(target, vocab, true);
  if (pattern === null) {
    return { found: false };
  }
  // the target is the only phrase: the lexicon's sets are not wanted, the target is a set of its own
  const trie = new Trie<MatchPayload>();
  const own = lexicon.modalitySet + 1;
  trie.add(pattern, phrasePayload('finding', own));
  trie.seal(vocab.size);
  const wanted = new Uint8Array(own + 1);
  wanted[own] = 1;
  const a = analyse(text, lexicon, vocab, [lexicon.matcher, trie], wanted, true);
  const first = a.hits[0];
  if (first === undefined) {
    return { found: false };
  }
  const f = flagsOf(first.flags);
  return {
    found: true,
    negated: f.negated,
    possible: f.possible,
    hypothetical: f.hypothetical,
    historical: f.historical,
    experiencer: f.other ? 'other' : 'patient',
  };
}
