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

const FHIR_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

const RANK: Record<DatePrecision, number> = { year: 0, month: 1, day: 2, time: 3 };

/**
 * Parses a FHIR date, dateTime or instant. Anything else (wrong type, impossible date) is undefined: a
 * record without a readable date is never inside a window (SPEC §2).
 * @param value - the raw JSON value
 */
export function parseFhirDate(value: unknown): FhirDate | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const m = FHIR_DATE.exec(value.trim());
  if (!m) {
    return undefined;
  }
  const year = Number(m[1]);
  const month = m[2] !== undefined ? Number(m[2]) : 1;
  const day = m[3] !== undefined ? Number(m[3]) : 1;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) {
    return undefined;
  }
  if (m[4] === undefined) {
    const precision: DatePrecision = m[3] !== undefined ? 'day' : m[2] !== undefined ? 'month' : 'year';
    return { start: Date.UTC(year, month - 1, day), precision };
  }
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] !== undefined ? Number(m[6]) : 0;
  if (hour > 24 || minute > 59 || second > 60) {
    return undefined;
  }
  const millis = m[7] !== undefined ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let start = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    start -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(start) ? { start, precision: 'time' } : undefined;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, monthIndex: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthIndex === 1 && leap ? 29 : (MONTH_DAYS[monthIndex] ?? 31);
}

/** Truncates an instant to the start of its UTC year, month or day. */
export function truncate(ms: number, precision: DatePrecision): number {
  const d = new Date(ms);
  switch (precision) {
    case 'year':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'time':
      return ms;
  }
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
