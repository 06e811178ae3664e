import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Patient, Resource, ServiceRequest } from 'fhir/r4.js';

/** A clinical scenario: one patient's record, the draft orders, and the determination they must get. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly hook: 'order-sign' | 'order-select';
  readonly patient: Patient;
  readonly resources: Resource[];
  readonly draftOrders: ServiceRequest[];
  readonly expect: {
    readonly decision?: string;
    readonly satisfied?: (string | string[])[];
    readonly notSatisfied?: string[];
    readonly missing?: string[];
    readonly notMissing?: string[];
    readonly cards?: number;
    /** SPEC §7.1: false when the patient's coverage is not reviewed, so the card carries no determination. */
    readonly determination?: false;
    /** What the order's coverage-information must say: covered, the reason code, the Coverage referenced. */
    readonly coverage?: { readonly covered?: string; readonly reason?: string; readonly reference?: string };
    /** Evidence from notes the determination must carry (SPEC §8.4): the quote is the span's text. */
    readonly evidence?: readonly { readonly fact: string; readonly reference?: string; readonly assertion?: string; readonly quote?: string }[];
  };
}

const here = dirname(fileURLToPath(import.meta.url));
export const SCENARIO_DIR = join(here, '..', 'fixtures', 'scenarios');
/** Named scenarios for SPEC §7.1 (whose coverage), in the same format. */
export const COVERAGE_SCENARIO_DIR = join(here, '..', 'fixtures', 'coverage-scenarios');

const PLACEHOLDER = /^\$\{(now|today)(?:([+-])(\d+)([dwmy]))?\}$/;

/**
 * Resolves "${now-35d}" / "${today-2y}" placeholders against a reference instant, so a scenario means
 * the same thing on any day (scenario README). Units: d, w, m (calendar months), y.
 */
export function resolvePlaceholders<T>(value: T, reference: Date): T {
  if (typeof value === 'string') {
    const m = PLACEHOLDER.exec(value);
    if (!m) {
      return value;
    }
    const at = new Date(reference.getTime());
    if (m[2] !== undefined) {
      const n = Number(m[3]) * (m[2] === '-' ? -1 : 1);
      switch (m[4]) {
        case 'd':
          at.setUTCDate(at.getUTCDate() + n);
          break;
        case 'w':
          at.setUTCDate(at.getUTCDate() + 7 * n);
          break;
        case 'm':
          at.setUTCMonth(at.getUTCMonth() + n);
          break;
        case 'y':
          at.setUTCFullYear(at.getUTCFullYear() + n);
          break;
      }
    }
    const iso = at.toISOString();
    return (m[1] === 'today' ? iso.slice(0, 10) : iso.replace(/\.\d{3}Z$/, 'Z')) as T;
  }
  if (Array.isArray(value)) {
    return value.map((v: unknown) => resolvePlaceholders(v, reference)) as T;
  }
  if (value !== null && typeof value === 'object') {
    const { plainText, ...rest } = value as Record<string, unknown>;
    const resolved = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, resolvePlaceholders(v, reference)]));
    if (typeof plainText === 'string') {
      // Notes are written plainly in scenarios; an EHR sends them as base64 `data` (scenario README).
      resolved.data = Buffer.from(resolveInlineDates(plainText, reference), 'utf8').toString('base64');
    }
    return resolved as T;
  }
  return value;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Inline date placeholders in note text (scenario README): `${us:today-40d}` → 10/21/2026, `${month:today-2m}` →
 * September, `${long:today-40d}` → October 21, 2026.
 */
export function resolveInlineDates(text: string, reference: Date): string {
  return text.replace(/\$\{(us|month|long):(today(?:[+-]\d+[dwmy])?)\}/g, (_m, format: string, expression: string) => {
    const [y, mo, d] = resolvePlaceholders(`\${${expression}}`, reference).split('-').map(Number);
    const month = MONTHS[(mo ?? 1) - 1] ?? '';
    if (format === 'us') {
      return `${String(mo).padStart(2, '0')}/${String(d).padStart(2, '0')}/${y}`;
    }
    return format === 'month' ? month : `${month} ${d}, ${y}`;
  });
}

/** Every scenario of a folder (the public ones by default), dates resolved against `reference`. */
export function loadScenarios(reference = new Date(), dir = SCENARIO_DIR): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => resolvePlaceholders(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Scenario, reference));
}
