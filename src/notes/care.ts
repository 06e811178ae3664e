// Conservative care in notes (SPEC §8.6): a modality mention bound, in its sentence, to a duration ("PT for 6
// weeks", "6 weeks of PT", "a 3-week course of PT", "started meloxicam 5 weeks ago") or to a start date ("in PT since
// 10/21/2026", "started PT on September 3, 2026"). Nothing binds across a termination term, another modality or a
// back-symptom phrase ("back pain for 6 weeks, started ibuprofen": the six weeks are the pain's).
import type { CareLexicon } from './lexicon.js';
import type { Layout } from './sections.js';
import { G_JOIN_ONLY, squeeze, type Tokens } from './text.js';

/** What a modality is bound to: a duration in days or a start date (epoch ms, UTC midnight). */
export type CareBinding = { readonly basis: 'duration'; readonly days: number } | { readonly basis: 'date'; readonly startsAt: number };

const DAY_MS = 86_400_000;

interface Reader {
  readonly text: string;
  readonly t: Tokens;
  readonly care: CareLexicon;
}

function idAt(r: Reader, k: number): number {
  return r.t.id[k] ?? -1;
}

/** The token text lower-cased (only for the few tokens next to a modality). */
function lower(r: Reader, k: number): string {
  return r.text.slice(r.t.start[k] ?? 0, r.t.end[k] ?? 0).toLowerCase();
}

function flexBefore(r: Reader, k: number): boolean {
  return ((r.t.gap[k] ?? 0) & G_JOIN_ONLY) !== 0;
}

/** A token that is a whole number in digits, or null. */
function digitsOf(r: Reader, k: number): { value: number; len: number } | null {
  const s = lower(r, k);
  return /^\d{1,4}$/.test(s) ? { value: Number(s), len: s.length } : null;
}

/** The number a token states: digits (up to 4) or a number word of the lexicon ("six", "a"). */
function numberAt(r: Reader, k: number, count: number): { value: number; last: number } | null {
  if (k < 0 || k >= count) {
    return null;
  }
  const d = digitsOf(r, k);
  if (d !== null) {
    // "1.5 months"
    if (k + 1 < count && squeeze(r.text, r.t.end[k] ?? 0, r.t.start[k + 1] ?? 0) === '.' && (r.t.start[k + 1] ?? 0) === (r.t.end[k] ?? 0) + 1) {
      const frac = digitsOf(r, k + 1);
      if (frac !== null) {
        return { value: Number(`${d.value}.${lower(r, k + 1)}`), last: k + 1 };
      }
    }
    return { value: d.value, last: k };
  }
  const w = r.care.numbers.get(idAt(r, k));
  return w === undefined ? null : { value: w, last: k };
}

/** A range "4-6" / "4 to 6" starting at k: the lower bound (the span a careful reviewer accepts). */
function rangeAt(r: Reader, k: number, count: number): { value: number; last: number } | null {
  const a = numberAt(r, k, count);
  if (a === null) {
    return null;
  }
  let next = a.last + 1;
  if (next < count && r.care.ranges.has(idAt(r, next)) && flexBefore(r, next)) {
    next++;
  } else if (!(next < count && squeeze(r.text, r.t.end[a.last] ?? 0, r.t.start[next] ?? 0) === '-')) {
    return a;
  }
  const b = numberAt(r, next, count);
  if (b === null) {
    return a;
  }
  return { value: Math.min(a.value, b.value), last: b.last };
}

/** Could token k begin a number: a digit, a number word, or a glued connector and a digit ("x6")? */
function mayBeNumber(r: Reader, k: number): boolean {
  const s = r.t.start[k] ?? 0;
  const c = r.text.charCodeAt(s);
  if (c >= 48 && c <= 57) {
    return true;
  }
  if (r.care.numbers.has(idAt(r, k))) {
    return true;
  }
  const len = (r.t.end[k] ?? 0) - s;
  for (const g of r.care.glued) {
    const d = r.text.charCodeAt(s + g.length);
    if (len > g.length && d >= 48 && d <= 57 && r.text.slice(s, s + g.length).toLowerCase() === g) {
      return true;
    }
  }
  return false;
}

/** A duration starting at token k: {days, last token, glued connector ("x6")}, or null. */
export function durationAt(r: Reader, k: number, count: number): { days: number; last: number; glued: boolean } | null {
  const s = lower(r, k);
  let glued = false;
  let rest = s;
  for (const g of r.care.glued) {
    if (s.length > g.length && s.startsWith(g) && /\d/.test(s.charAt(g.length))) {
      glued = true;
      rest = s.slice(g.length);
      break;
    }
  }
  const m = /^(\d{1,4})([a-z]*)$/.exec(rest);
  if (m !== null && (glued || (m[2] ?? '') !== '')) {
    const value = Number(m[1]);
    const suffix = m[2] ?? '';
    if (suffix !== '') {
      const unit = r.care.unitKeys.get(suffix);
      return unit === undefined ? null : { days: value * unit, last: k, glued };
    }
    const unit = k + 1 < count && flexBefore(r, k + 1) ? r.care.units.get(idAt(r, k + 1)) : undefined;
    return unit === undefined ? null : { days: value * unit, last: k + 1, glued };
  }
  const n = rangeAt(r, k, count);
  if (n === null || n.last + 1 >= count || !flexBefore(r, n.last + 1)) {
    return null;
  }
  const unit = r.care.units.get(idAt(r, n.last + 1));
  return unit === undefined ? null : { days: Math.round(n.value * unit), last: n.last + 1, glued: false };
}

/** A duration whose unit is token u ("6 weeks", "6-week", "6wks", "4-6 weeks"), read backwards: days or null. */
function durationEndingAt(r: Reader, u: number, first: number): number | null {
  if (u < first) {
    return null;
  }
  const s = lower(r, u);
  const glued = /^(\d{1,4})([a-z]+)$/.exec(s);
  if (glued !== null) {
    const unit = r.care.unitKeys.get(glued[2] ?? '');
    return unit === undefined ? null : Number(glued[1]) * unit;
  }
  const unit = r.care.units.get(idAt(r, u));
  if (unit === undefined || u - 1 < first || !flexBefore(r, u)) {
    return null;
  }
  // the number (or the end of a range) just before the unit; step back over "4 to" / "4-"
  for (let k = Math.max(first, u - 4); k < u; k++) {
    const d = rangeAt(r, k, u);
    if (d !== null && d.last === u - 1) {
      return Math.round(d.value * unit);
    }
  }
  return null;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayOf(year: number, month: number, day: number): number | null {
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return null;
  }
  return Date.UTC(year, month - 1, day);
}

/** The latest given month/day on or before the note's date (a date written without its year). */
function latestOnOrBefore(month: number, day: number, noteDate: number | undefined): number | null {
  if (noteDate === undefined) {
    return null;
  }
  const y = new Date(noteDate).getUTCFullYear();
  for (const year of [y, y - 1]) {
    const at = dayOf(year, month, day);
    if (at !== null && at <= noteDate) {
      return at;
    }
  }
  return null;
}

function fullYear(v: number, len: number, noteDate: number | undefined): number {
  if (len === 4) {
    return v;
  }
  const noteYear = noteDate === undefined ? 2099 : new Date(noteDate).getUTCFullYear();
  return 2000 + v <= noteYear + 1 ? 2000 + v : 1900 + v;
}

function exactGap(r: Reader, k: number, sep: string): boolean {
  return r.text.slice(r.t.end[k - 1] ?? 0, r.t.start[k] ?? 0) === sep;
}

/** A day number token: "3", "03", "3rd", "21st". */
function dayNumber(r: Reader, k: number): number | null {
  const m = /^(\d{1,2})(st|nd|rd|th)?$/.exec(lower(r, k));
  return m === null ? null : Number(m[1]);
}

/**
 * A date starting at token k (§8.6 forms: MM/DD/YYYY, MM/DD/YY, YYYY-MM-DD, "Month D, YYYY", "Month YYYY", "Month";
 * added: "Month D" and "MM/DD" without a year, resolved like "Month" alone): {at, last} or null. `at` is null when
 * the date needs the note's date and there is none.
 */
export function dateAt(r: Reader, k: number, count: number, noteDate: number | undefined): { at: number | null; last: number } | null {
  const a = digitsOf(r, k);
  if (a !== null) {
    const b = k + 1 < count ? digitsOf(r, k + 1) : null;
    if (a.len === 4 && b !== null && exactGap(r, k + 1, '-') && k + 2 < count && exactGap(r, k + 2, '-')) {
      const c = digitsOf(r, k + 2);
      return c === null || c.len > 2 ? null : { at: dayOf(a.value, b.value, c.value), last: k + 2 };
    }
    if (a.len <= 2 && b !== null && b.len <= 2 && exactGap(r, k + 1, '/')) {
      const c = k + 2 < count && exactGap(r, k + 2, '/') ? digitsOf(r, k + 2) : null;
      if (c !== null && (c.len === 2 || c.len === 4)) {
        return { at: dayOf(fullYear(c.value, c.len, noteDate), a.value, b.value), last: k + 2 };
      }
      return { at: latestOnOrBefore(a.value, b.value, noteDate), last: k + 1 };
    }
    return null;
  }
  const month = r.care.months.get(idAt(r, k));
  if (month === undefined) {
    return null;
  }
  let last = k;
  if (k + 1 < count) {
    const year = digitsOf(r, k + 1);
    if (year !== null && year.len === 4) {
      return { at: dayOf(year.value, month, 1), last: k + 1 };
    }
    const day = dayNumber(r, k + 1);
    if (day !== null) {
      last = k + 1;
      const y = k + 2 < count ? digitsOf(r, k + 2) : null;
      if (y !== null && y.len === 4) {
        return { at: dayOf(y.value, month, day), last: k + 2 };
      }
      return { at: latestOnOrBefore(month, day, noteDate), last };
    }
  }
  return { at: latestOnOrBefore(month, 1, noteDate), last };
}

/** Does a connector ("for", "over the past", "x") end at token k-1, beginning at or after `from`? */
function connectorBefore(r: Reader, k: number, from: number): boolean {
  return r.care.connectors.some((p) => {
    const n = p.words.length;
    const s = k - n;
    if (s < from) {
      return false;
    }
    for (let w = 0; w < n; w++) {
      if (idAt(r, s + w) !== p.words[w] || (w > 0 && !flexBefore(r, s + w))) {
        return false;
      }
    }
    return true;
  });
}

/**
 * What the modality mention at tokens i..j is bound to, or null.
 *
 * @param blockers - per token, non-zero for a termination term, a modality or a back-symptom phrase
 */
export function bindCare(
  text: string,
  t: Tokens,
  lay: Layout,
  care: CareLexicon,
  blockers: Uint8Array,
  i: number,
  j: number,
  noteDate: number | undefined,
): CareBinding | null {
  const r: Reader = { text, t, care };
  const sentence = lay.sentenceOf[i] ?? 0;
  const first = lay.tok0[sentence] ?? 0;
  const end = lay.tok1[sentence] ?? 0;
  let days = 0;
  let date: number | null = null;

  // "started (on|taking) <modality>": a started-verb at most two words before, nothing blocking between
  let startedBefore = false;
  for (let k = i - 1; k >= Math.max(first, i - 3); k--) {
    if ((blockers[k] ?? 0) !== 0) {
      break;
    }
    if (care.started.has(idAt(r, k))) {
      startedBefore = true;
      break;
    }
  }

  // forward: "<modality> … for <duration>", "… <duration> ago", "… since <date>", "started <modality> on <date>"
  let startedAfter = false;
  for (let k = j + 1; k < end; k++) {
    const between = k - j - 1;
    if (between > care.maxWordsBetween || (blockers[k] ?? 0) !== 0) {
      break;
    }
    const id = idAt(r, k);
    if (care.started.has(id)) {
      startedAfter = true;
    }
    const d = mayBeNumber(r, k) ? durationAt(r, k, end) : null;
    if (d !== null) {
      const words = between + (d.glued ? 1 : 0);
      const ago = d.last + 1 < end && care.ago.has(idAt(r, d.last + 1));
      if (words <= care.maxWordsBetween && !ago && (d.glued || connectorBefore(r, k, j + 1))) {
        days = Math.max(days, d.days);
      } else if (ago && (startedBefore || startedAfter)) {
        days = Math.max(days, d.days);
      }
      k = d.last;
      continue;
    }
    const sinceBefore = k - 1 > j && care.since.has(idAt(r, k - 1));
    const onBefore = (startedBefore || startedAfter) && (k === j + 1 || (k - 1 > j && care.startedOn.has(idAt(r, k - 1))));
    if (sinceBefore || onBefore) {
      const at = dateAt(r, k, end, noteDate);
      if (at !== null) {
        if (at.at !== null) {
          date = date === null ? at.at : Math.min(date, at.at);
        }
        k = at.last;
      }
    }
  }

  // backward: "<duration> [course|trial] of [formal] <modality>"
  let p = i - 1;
  for (let mods = 0; p >= first && mods < 2 && care.modifiers.has(idAt(r, p)) && (blockers[p] ?? 0) === 0; mods++) {
    p--;
  }
  if (p >= first && care.durationOf.has(idAt(r, p))) {
    p--;
    if (p >= first && care.courses.has(idAt(r, p))) {
      p--;
    }
    const d = durationEndingAt(r, p, first);
    if (d !== null) {
      days = Math.max(days, d);
    }
  }

  if (days > 0 && date !== null && noteDate !== undefined) {
    return noteDate - date > days * DAY_MS ? { basis: 'date', startsAt: date } : { basis: 'duration', days };
  }
  if (days > 0) {
    return { basis: 'duration', days };
  }
  return date === null ? null : { basis: 'date', startsAt: date };
}
