// The notes pipeline (SPEC §8): HTML → text → lines and sections → sentences → pseudo-triggers → phrases (mentions)
// → triggers → assertion flags → conservative care. Pure and synchronous: a string in, a reading out.
import { bindCare, type CareBinding } from './care.js';
import { assertFlags, type Flaggable } from './context.js';
import { htmlToText, type PlainText } from './html.js';
import { FLAG_BIT, LexiconError, TERMINATION, type Lexicon, type PhraseKind, type PhrasePayload } from './lexicon.js';
import { findPhrases, findTriggers, markPseudo, type PhraseHit, type TriggerHit } from './match.js';
import { parsePattern, Trie } from './patterns.js';
import { B_LABEL, B_PSEUDO, layout, type Layout } from './sections.js';
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

interface Hit extends Flaggable {
  readonly set: number;
  readonly kind: PhraseKind;
  readonly phrase: string;
}

/** The shared analysis of readNote and assertionOf. */
interface Analysis {
  readonly text: string;
  readonly t: Tokens;
  readonly lay: Layout;
  readonly hits: Hit[];
  readonly triggers: TriggerHit[];
}

function analyse(text: string, lex: Lexicon, vocab: Vocabulary, phrases: Trie<PhrasePayload>, wanted: Uint8Array, fallback: boolean): Analysis {
  const t = tokenize(text, vocab);
  const blocked = new Uint8Array(t.count);
  const lay = layout(text, t, lex, blocked);
  markPseudo(text, t, lay, lex, blocked);
  let found: PhraseHit[] = findPhrases(text, t, lay, phrases, blocked, wanted, B_LABEL | B_PSEUDO);
  if (fallback && found.length === 0) {
    // §8.7: a target inside a pseudo-trigger or a header label is still the target
    found = findPhrases(text, t, lay, phrases, blocked, wanted, B_LABEL);
    if (found.length === 0) {
      found = findPhrases(text, t, lay, phrases, blocked, wanted, 0);
    }
  }
  const triggers = findTriggers(text, t, lay, lex, blocked);
  const hits: Hit[] = found.filter((h) => h.kind !== 'not-counted').map((h) => ({ ...h, flags: 0 }));
  assertFlags(hits, triggers, lay);
  for (const h of hits) {
    h.flags |= lay.effect[lay.sentenceOf[h.i] ?? 0] ?? 0;
  }
  return { text, t, lay, hits, triggers };
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

/** Binary search of the sentence holding a plain offset. */
function sentenceIndex(lay: Layout, offset: number): number {
  let lo = 0;
  let hi = lay.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((lay.end[mid] ?? 0) <= offset) {
      lo = mid + 1;
    } else if ((lay.start[mid] ?? 0) > offset) {
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
  const report = new Uint8Array(lexicon.modalitySet + 1);
  const wanted = new Uint8Array(lexicon.modalitySet + 1);
  const requested = options.sets ?? lexicon.defaultSets;
  for (const name of requested) {
    const si = lexicon.setIndex.get(name);
    if (si === undefined) {
      throw new LexiconError('sets', `"${name}" is not a phrase set of the lexicon`);
    }
    report[si] = 1;
    wanted[si] = 1;
    for (const from of lexicon.sets[si]?.alsoPossibleFrom ?? []) {
      wanted[lexicon.setIndex.get(from) ?? 0] = 1;
    }
  }
  // Every unrestricted set is matched whatever is reported, so that which words are mentions (and so which are
  // triggers) does not depend on the sets a caller asks for; care needs modalities and its blocking sets.
  lexicon.defaultSets.forEach((name) => {
    wanted[lexicon.setIndex.get(name) ?? 0] = 1;
  });
  wanted[lexicon.modalitySet] = 1;
  const a = analyse(ptext, lexicon, lexicon.vocab, lexicon.phrases, wanted, false);
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
  const sentences: SentenceRange[] = [];
  const sentenceRange = (s: number): SentenceRange => {
    let r = sentences[s];
    if (r === undefined) {
      r = { start: lay.start[s] ?? 0, end: lay.end[s] ?? 0 };
      sentences[s] = r;
    }
    return r;
  };
  const spanOf = (i: number, j: number): TextSpan => {
    const plainStart = t.start[i] ?? 0;
    const plainEnd = t.end[j] ?? 0;
    return { start: toOriginal(plainStart), end: toOriginalEnd(plainEnd), plainStart, plainEnd };
  };

  const mentions: Mention[] = [];
  const bySpan = new Set<string>();
  for (const h of a.hits) {
    if (h.set === lexicon.modalitySet || (report[h.set] ?? 0) === 0) {
      continue;
    }
    const f = flagsOf(h.flags);
    mentions.push({
      set: lexicon.sets[h.set]?.name ?? '',
      kind: h.kind === 'negating' ? 'negating-phrase' : 'finding',
      phrase: h.phrase,
      ...spanOf(h.i, h.j),
      sentence: sentenceRange(lay.sentenceOf[h.i] ?? 0),
      ...f,
      scopedByNegation: f.negated,
    });
    bySpan.add(`${h.set}:${h.i}:${h.j}`);
  }
  // §8.5: counted findings of a source set are possible-only mentions of the sets that take them — only when they
  // are possible and not negated ("negated or plain ones are not mentions of this fact").
  lexicon.sets.forEach((info, si) => {
    if ((report[si] ?? 0) === 0 || info.alsoPossibleFrom.length === 0) {
      return;
    }
    const sources = new Set(info.alsoPossibleFrom.map((n) => lexicon.setIndex.get(n)));
    for (const h of a.hits) {
      const possible = (h.flags & FLAG_BIT.possible) !== 0 && (h.flags & FLAG_BIT.negated) === 0;
      if (!possible || h.kind !== 'finding' || !sources.has(h.set) || bySpan.has(`${si}:${h.i}:${h.j}`)) {
        continue;
      }
      bySpan.add(`${si}:${h.i}:${h.j}`);
      mentions.push({
        set: info.name,
        kind: 'finding',
        possibleOnly: true,
        phrase: h.phrase,
        ...spanOf(h.i, h.j),
        sentence: sentenceRange(lay.sentenceOf[h.i] ?? 0),
        ...flagsOf(h.flags),
        scopedByNegation: false,
      });
    }
  });
  mentions.sort((x, y) => x.plainStart - y.plainStart || x.plainEnd - y.plainEnd || (x.set < y.set ? -1 : x.set > y.set ? 1 : 0));

  // §8.6: what a binding may not cross
  const blockers = new Uint8Array(t.count);
  const blocking = new Set(lexicon.care.blockingSets);
  for (const h of a.hits) {
    if (h.set === lexicon.modalitySet || (h.kind === 'finding' && blocking.has(h.set))) {
      blockers.fill(1, h.i, h.j + 1);
    }
  }
  for (const tr of a.triggers) {
    if (tr.rules.some((r) => r.category === TERMINATION)) {
      blockers.fill(1, tr.i, tr.j + 1);
    }
  }
  const care: CareMention[] = [];
  for (const h of a.hits) {
    if (h.set !== lexicon.modalitySet) {
      continue;
    }
    const bound = bindCare(ptext, t, lay, lexicon.care, blockers, h.i, h.j, options.noteDate);
    if (bound !== null) {
      care.push({
        modality: { ...spanOf(h.i, h.j), phrase: h.phrase },
        sentence: sentenceRange(lay.sentenceOf[h.i] ?? 0),
        ...flagsOf(h.flags),
        ...bound,
      });
    }
  }

  return {
    text: ptext,
    mentions,
    care,
    toOriginal,
    toOriginalEnd,
    sentenceAt(offset: number): SentenceRange | undefined {
      const s = sentenceIndex(lay, offset);
      return s < 0 ? undefined : sentenceRange(s);
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
  const trie = new Trie<PhrasePayload>();
  trie.add(pattern, { kind: 'finding', set: 0 });
  trie.seal(vocab.size);
  const a = analyse(text, lexicon, vocab, trie, Uint8Array.of(1), true);
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
