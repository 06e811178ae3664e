/** Evidence rules over Observations: thresholds, coded values and weight loss (SPEC §3). */
import type { Coding, Observation, Quantity } from 'fhir/r4.js';
import type { QuantityThreshold } from '../../policy/policy-types.js';
import { compareDates, type FhirDate } from '../fhir-dates.js';
import type { Dated } from '../record-index.js';
import { closedWorld, evidenceOf, withinDays, type Evidence, type RuleContext, type RuleOf, type RuleResult } from './rule-result.js';

/** UCUM code of a quantity, else its unit text (a temperature sent with a unit but no code still reads). */
function quantityUnit(q: Quantity): string | undefined {
  const system = typeof q.system === 'string' ? q.system.trim() : undefined;
  if (typeof q.code === 'string' && (system === undefined || system === 'http://unitsofmeasure.org')) {
    return q.code.trim();
  }
  return typeof q.unit === 'string' ? q.unit.trim() : undefined;
}

function meets(value: number, unit: string | undefined, t: QuantityThreshold): boolean {
  if (t.unit !== undefined && unit !== t.unit) {
    return false;
  }
  return (t.atLeast === undefined || value >= t.atLeast) && (t.atMost === undefined || value <= t.atMost);
}

/** SPEC §3 measured values: a coded quantity meeting a threshold in a given unit, inside a window. */
export function observationQuantityRule(rule: RuleOf<'observation-quantity'>, ctx: RuleContext): RuleResult {
  const found: Evidence[] = [];
  for (const d of ctx.index.observations) {
    const o = d.resource;
    const q = o.valueQuantity;
    if (!q || typeof q.value !== 'number') {
      continue;
    }
    const coding = ctx.valueSets.conceptIn(rule.codes, o.code);
    if (!coding || !withinDays(d.date, rule.withinDays, ctx.now)) {
      continue;
    }
    const value = q.value;
    const unit = quantityUnit(q);
    if (rule.thresholds.some((t) => meets(value, unit, t))) {
      found.push(evidenceOf(d, coding, o.code, ctx, `${value}${unit ? ` ${unit}` : ''}`));
    }
  }
  return closedWorld(found, ['Observation'], ctx);
}

/** Kilograms per unit for body weights (UCUM codes of SPEC §3: kg, g, [lb_av]). */
const KG_PER_UNIT: Readonly<Record<string, number>> = { kg: 1, g: 0.001, '[lb_av]': 0.45359237 };

/** SPEC §3 rf.weight-loss: a later body weight at least the given share below an earlier one in the window. */
export function weightDropRule(rule: RuleOf<'weight-drop'>, ctx: RuleContext): RuleResult {
  const readings: { d: Dated<Observation>; coding: Coding; kg: number; date: FhirDate; text: string }[] = [];
  for (const d of ctx.index.observations) {
    const q = d.resource.valueQuantity;
    if (!q || typeof q.value !== 'number' || !d.date) {
      continue;
    }
    const unit = quantityUnit(q);
    const factor = KG_PER_UNIT[unit ?? ''];
    const coding = factor === undefined ? undefined : ctx.valueSets.conceptIn(rule.codes, d.resource.code);
    if (!coding || factor === undefined || !withinDays(d.date, rule.withinDays, ctx.now)) {
      continue;
    }
    readings.push({ d, coding, kg: q.value * factor, date: d.date, text: `${q.value} ${unit ?? ''}`.trim() });
  }
  // SPEC §3: the readings do not count if bariatric status is recorded.
  const bariatric = ctx.index.conditions.some((c) => ctx.valueSets.conceptIn(rule.unlessCondition, c.resource.code));
  if (bariatric) {
    return closedWorld([], ['Observation'], ctx);
  }
  // Sorted by date, each reading is compared with the heaviest strictly earlier one: O(n log n), so a
  // record with thousands of weights costs no more than its sort.
  readings.sort((a, b) => a.date.start - b.date.start);
  let heaviest: (typeof readings)[number] | undefined;
  let next = 0;
  for (const later of readings) {
    for (; next < readings.length; next++) {
      const candidate = readings[next];
      if (!candidate || compareDates(candidate.date, later.date) >= 0) {
        break;
      }
      if (!heaviest || candidate.kg > heaviest.kg) {
        heaviest = candidate;
      }
    }
    if (heaviest && later.kg <= heaviest.kg * (1 - rule.atLeastPercent / 100)) {
      return closedWorld(
        [
          evidenceOf(heaviest.d, heaviest.coding, heaviest.d.resource.code, ctx, heaviest.text),
          evidenceOf(later.d, later.coding, later.d.resource.code, ctx, later.text),
        ],
        ['Observation', 'Condition'],
        ctx,
      );
    }
  }
  return closedWorld([], ['Observation', 'Condition'], ctx);
}

/** SPEC §3 rf.iv-drug-use: an Observation whose coded value is in the value set. */
export function observationValueRule(rule: RuleOf<'observation-value'>, ctx: RuleContext): RuleResult {
  const found: Evidence[] = [];
  for (const o of ctx.index.observations) {
    const concept = o.resource.valueCodeableConcept;
    const coding = concept === undefined ? undefined : ctx.valueSets.conceptIn(rule.values, concept);
    if (coding) {
      found.push(evidenceOf(o, coding, concept, ctx));
    }
  }
  return closedWorld(found, ['Observation'], ctx);
}
