// From a mention's flags to what it says about a fact (SPEC §8.4, without the date window, which is the facts
// layer's), and the quote a card shows for it.
import type { AcceptableFlag } from './lexicon.js';
import type { AssertionFlags, Mention, NoteReading } from './read-note.js';

/** Flags a fact accepts in an affirming mention (§8.5 "accepts"), as a list or a set. */
export type Accepts = readonly AcceptableFlag[] | ReadonlySet<AcceptableFlag>;

function accepts(a: Accepts, flag: AcceptableFlag): boolean {
  return Array.isArray(a) ? a.includes(flag) : (a as ReadonlySet<AcceptableFlag>).has(flag);
}

/** The parts of a mention §8.4 reads (a CareMention has them too, as a finding). */
export type Assertable = AssertionFlags & { readonly kind?: Mention['kind']; readonly possibleOnly?: true };

/**
 * §8.4: a mention is affirming when it is a finding, not negated, not another person's, and possible, hypothetical
 * or historical only when the fact accepts that flag. A possible-only mention (§8.5 alsoPossible) affirms only when
 * it is possible and the fact accepts possible. The caller still checks the note's date against the window.
 *
 * @param m - a mention (or a care mention, read as a finding)
 * @param acceptsFlags - the flags the fact accepts
 */
export function isAffirming(m: Assertable, acceptsFlags: Accepts): boolean {
  if (m.kind === 'negating-phrase' || m.negated || m.other) {
    return false;
  }
  if (m.possibleOnly === true && !m.possible) {
    return false;
  }
  return (!m.possible || accepts(acceptsFlags, 'possible')) && (!m.hypothetical || accepts(acceptsFlags, 'hypothetical')) && (!m.historical || accepts(acceptsFlags, 'historical'));
}

/**
 * §8.4: a finding is negating when it is negated, not hypothetical and not another person's; a negating phrase is
 * negating when it is not hypothetical, not another person's and no negation trigger scopes it ("no rectal tone
 * intact" is not a normal exam). The caller still checks the note's date against the window.
 *
 * @param m - a mention
 */
export function isNegating(m: Assertable & { readonly scopedByNegation?: boolean }): boolean {
  if (m.hypothetical || m.other || m.possibleOnly === true) {
    return false;
  }
  return m.kind === 'negating-phrase' ? m.scopedByNegation !== true : m.negated;
}

/** `/\s/` on one UTF-16 code unit (ECMAScript WhiteSpace and LineTerminator), without a regular expression. */
export function isJsSpace(c: number): boolean {
  if (c > 32 && c < 160) {
    return false;
  }
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The same characters in a string of their own. A slice of a note shares the note's whole text in V8 (a sliced
 * string keeps its parent alive), and a quote outlives the reading: evidence is kept with a determination's
 * questionnaire and in the record. A one-character concatenation makes V8 flatten, that is copy, the slice.
 */
function ownCopy(slice: string): string {
  return `${slice} `.slice(0, -1);
}

/** True when text[from, to) has whitespace only as single spaces between other characters (nothing to collapse). */
function isCollapsed(text: string, from: number, to: number): boolean {
  for (let p = from; p < to; p++) {
    const c = text.charCodeAt(p);
    if (c === 32) {
      if (p === from || p === to - 1 || text.charCodeAt(p - 1) === 32) {
        return false;
      }
    } else if (c !== c || isJsSpace(c)) {
      return false; // NaN: past the end of the text
    }
  }
  return true;
}

/**
 * The sentence around a span, as a card quotes it (§8.4): whitespace runs collapsed, at most `max` characters,
 * centred on the span, with '…' where cut.
 *
 * @param reading - the reading the span comes from
 * @param plainStart - start of the span in `reading.text`
 * @param plainEnd - end of the span (exclusive)
 * @param max - the longest quote (default 200)
 */
export function quoteOf(reading: NoteReading, plainStart: number, plainEnd: number, max = 200): string {
  const text = reading.text;
  const s = reading.sentenceAt(plainStart) ?? { start: plainStart, end: plainEnd };
  const a = Math.max(s.start, Math.min(plainStart, s.end));
  const b = Math.max(a, Math.min(Math.max(plainEnd, a), s.end));
  // collapse whitespace, tracking where the span lands; read at most ~4 × max characters on each side. The
  // non-space runs are copied as slices, and a sentence with nothing to collapse in one copy: the facts cite
  // thousands of mentions of a long chart (§8.4), and building each quote a character at a time made more garbage
  // than reading the notes did.
  const from = Math.max(s.start, a - 4 * max);
  const to = Math.min(s.end, b + 4 * max);
  let out: string;
  let spanA = 0;
  let spanB = 0;
  if (isCollapsed(text, from, to)) {
    // most sentences need no collapsing: then the quote is the sentence's characters, copied once, and the span's
    // place in it is known
    // (an empty window when a caller's span ends before the sentence starts: slice would read a negative end from
    // the back of the text)
    out = to > from ? ownCopy(text.slice(from, to)) : '';
    spanA = a >= from && a < to ? a - from : 0;
    spanB = b - 1 >= from && b - 1 < to ? b - from - (text.charCodeAt(b - 1) === 32 ? 1 : 0) : 0;
  } else {
    const parts: string[] = [];
    let length = 0;
    let run = -1;
    let space = false;
    for (let p = from; p < to; p++) {
      if (p === a) {
        spanA = length + (space && length > 0 ? 1 : 0);
      }
      const c = text.charCodeAt(p);
      if (c !== c) {
        // NaN: past the end of the text (a caller's span beyond it), where charAt reads '', a non-space of no length
        if (run >= 0) {
          parts.push(text.slice(run, p));
          run = -1;
        }
        if (space && length > 0) {
          parts.push(' ');
          length++;
        }
        space = false;
      } else if (isJsSpace(c)) {
        if (run >= 0) {
          parts.push(text.slice(run, p));
          run = -1;
        }
        space = true;
      } else {
        if (run < 0) {
          if (space && length > 0) {
            parts.push(' ');
            length++;
          }
          run = p;
        }
        space = false;
        length++;
      }
      if (p === b - 1) {
        spanB = length;
      }
    }
    if (run >= 0) {
      parts.push(text.slice(run, to));
    }
    out = parts.length === 1 ? ownCopy(parts[0] ?? '') : parts.join('');
  }
  const cutLeft = from > s.start;
  const cutRight = to < s.end;
  if (out.length <= max && !cutLeft && !cutRight) {
    return out;
  }
  if (max < 3) {
    return out.slice(spanA, spanA + max);
  }
  // the window: the span centred, widened to `max` with room for the ellipses
  const room = max - 2;
  const spanLen = Math.min(spanB - spanA, room);
  let left = Math.max(0, spanA - Math.floor((room - spanLen) / 2));
  let right = Math.min(out.length, left + room);
  left = Math.max(0, right - room);
  const ellipsisLeft = left > 0 || cutLeft;
  const ellipsisRight = right < out.length || cutRight;
  if (!ellipsisLeft) {
    right = Math.min(out.length, left + room + 1);
  }
  if (!ellipsisRight) {
    left = Math.max(0, right - room - (ellipsisLeft ? 0 : 1));
  }
  return `${ellipsisLeft ? '…' : ''}${out.slice(left, right).trim()}${ellipsisRight ? '…' : ''}`;
}
