/**
 * FHIR date and dateTime values, compared the way SPEC §2 Dates asks: date-only values compare by
 * calendar day (and year or year-month values by their year or month), full dateTimes as instants.
 * Values without a zone are read as UTC.
 */
export type DatePrecision = 'year' | 'month' | 'day' | 'time';

export interface FhirDate {
  /** Epoch milliseconds of the first instant the value denotes. */
  readonly start: number;
  readonly precision: DatePrecision;
}

export const DAY_MS = 86_400_000;

const RANK: Record<DatePrecision, number> = { year: 0, month: 1, day: 2, time: 3 };

/** The last value parsed and its result: a chart repeats one timestamp across a panel of observations. */
let lastText: string | undefined;
let lastDate: FhirDate | undefined;

/**
 * Parses a FHIR date, dateTime or instant. Anything else (wrong type, impossible date) is undefined: a
 * record without a readable date is never inside a window (SPEC §2).
 * @param value - the raw JSON value
 */
export function parseFhirDate(value: unknown): FhirDate | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  if (value !== lastText) {
    lastDate = scanFhirDate(value.trim());
    lastText = value;
  }
  return lastDate;
}

/** The value of `length` ASCII digits at `at`, or -1 when any is not a digit or the text ends first. */
function digitsAt(text: string, at: number, length: number): number {
  if (at + length > text.length) {
    return -1;
  }
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) {
      return -1;
    }
    n = n * 10 + d;
  }
  return n;
}

/**
 * Reads YYYY[-MM[-DD[(T| )hh:mm[:ss[.f{1,9}]][ws][Z|(+|-)hh[:]mm]]]], the FHIR date/dateTime/instant
 * forms plus the lenient ones real systems send (a space for the T, no seconds, no zone: read as UTC).
 * Scanned by hand rather than with a regular expression: every date of every record passes through here.
 */
function scanFhirDate(text: string): FhirDate | undefined {
  const n = text.length;
  const year = digitsAt(text, 0, 4);
  if (year < 0) {
    return undefined;
  }
  if (n === 4) {
    return { start: Date.UTC(year, 0, 1), precision: 'year' };
  }
  const month = text[4] === '-' ? digitsAt(text, 5, 2) : -1;
  if (month < 1 || month > 12) {
    return undefined;
  }
  if (n === 7) {
    return { start: Date.UTC(year, month - 1, 1), precision: 'month' };
  }
  const day = text[7] === '-' ? digitsAt(text, 8, 2) : -1;
  if (day < 1 || day > daysInMonth(year, month - 1)) {
    return undefined;
  }
  if (n === 10) {
    return { start: Date.UTC(year, month - 1, day), precision: 'day' };
  }
  if (text[10] !== 'T' && text[10] !== ' ') {
    return undefined;
  }
  const hour = digitsAt(text, 11, 2);
  const minute = text[13] === ':' ? digitsAt(text, 14, 2) : -1;
  if (hour < 0 || minute < 0) {
    return undefined;
  }
  let i = 16;
  let second = 0;
  let millis = 0;
  if (text[i] === ':') {
    second = digitsAt(text, i + 1, 2);
    if (second < 0) {
      return undefined;
    }
    i += 3;
    if (text[i] === '.') {
      const from = i + 1;
      let to = from;
      while (to < n && to - from < 9 && digitsAt(text, to, 1) >= 0) {
        to++;
      }
      if (to === from) {
        return undefined;
      }
      millis = Number(text.slice(from, Math.min(to, from + 3)).padEnd(3, '0'));
      i = to;
    }
  }
  while (i < n && /\s/.test(text.charAt(i))) {
    i++;
  }
  let offsetMinutes = 0;
  if (i < n) {
    const sign = text[i] === '+' ? 1 : text[i] === '-' ? -1 : 0;
    if (text[i] === 'Z' && i + 1 === n) {
      i = n;
    } else if (sign !== 0) {
      const hh = digitsAt(text, i + 1, 2);
      const colon = text[i + 3] === ':' ? 1 : 0;
      const mm = digitsAt(text, i + 3 + colon, 2);
      if (hh < 0 || mm < 0 || i + 5 + colon !== n) {
        return undefined;
      }
      offsetMinutes = sign * (hh * 60 + mm);
      i = n;
    } else {
      return undefined;
    }
  }
  if (hour > 24 || minute > 59 || second > 60) {
    return undefined;
  }
  const start = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return Number.isFinite(start) ? { start, precision: 'time' } : undefined;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, monthIndex: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthIndex === 1 && leap ? 29 : (MONTH_DAYS[monthIndex] ?? 31);
}

/** Truncates an instant to the start of its UTC year, month or day. */
export function truncate(ms: number, precision: DatePrecision): number {
  // Whole UTC days are whole multiples of a day since the epoch: no Date object needed for the common cases.
  if (precision === 'time') {
    return ms;
  }
  if (precision === 'day') {
    return Math.floor(ms / DAY_MS) * DAY_MS;
  }
  const d = new Date(ms);
  return precision === 'year' ? Date.UTC(d.getUTCFullYear(), 0, 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * Whether a value is on or after an instant, compared at the value's precision ("within N days means
 * dated on or after now minus N days"; later dates count).
 * @param value - the record's date
 * @param threshold - epoch milliseconds
 */
export function onOrAfter(value: FhirDate, threshold: number): boolean {
  return value.start >= truncate(threshold, value.precision);
}

function coarser(a: FhirDate, b: FhirDate): DatePrecision {
  return RANK[a.precision] <= RANK[b.precision] ? a.precision : b.precision;
}

/**
 * Compares two dated values at the coarser of their precisions: a date-only Condition on the day of a
 * study is not "after" it (SPEC §2: date-only values compare by calendar day).
 * @returns negative, zero or positive
 */
export function compareDates(a: FhirDate, b: FhirDate): number {
  const p = coarser(a, b);
  return truncate(a.start, p) - truncate(b.start, p);
}

/**
 * Subtracts calendar months, clamping to the end of a shorter month (SPEC §2: months are calendar
 * months; 31 May minus 3 months is 28 or 29 February).
 * @param ms - epoch milliseconds
 * @param months - how many months back
 */
export function minusCalendarMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() - months;
  const year = Math.floor(total / 12);
  const monthIndex = total - year * 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, monthIndex));
  return Date.UTC(year, monthIndex, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Whole years between a birth date and an instant (age on that day). */
export function ageInYears(birth: FhirDate, at: number): number {
  const b = new Date(birth.start);
  const n = new Date(at);
  let age = n.getUTCFullYear() - b.getUTCFullYear();
  const beforeBirthday =
    n.getUTCMonth() < b.getUTCMonth() || (n.getUTCMonth() === b.getUTCMonth() && n.getUTCDate() < b.getUTCDate());
  if (beforeBirthday && birth.precision !== 'year') {
    age -= 1;
  }
  return age;
}

/** ISO calendar date (YYYY-MM-DD, UTC) of an instant, for cards and CRD `date`. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
