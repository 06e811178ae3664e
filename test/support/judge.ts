import type { Scenario } from './scenarios.js';

/** The parts of a determination a scenario's expectation speaks about. */
export interface DeterminationView {
  readonly decision: string;
  readonly satisfied?: readonly string[];
  readonly missing?: readonly string[];
}

/**
 * Compares a determination with a scenario's expectation (scenario README): the decision, ids that must
 * or must not be satisfied or missing, and `missing` empty unless documentation is needed.
 * @returns the problems found; empty when the determination is as expected
 */
export function problemsWith(scenario: Scenario, det: DeterminationView): string[] {
  const e = scenario.expect;
  const problems: string[] = [];
  const satisfied = det.satisfied ?? [];
  const missing = det.missing ?? [];
  if (det.decision !== e.decision) {
    problems.push(`decision ${det.decision}, expected ${e.decision ?? '(none)'}`);
  }
  for (const s of e.satisfied ?? []) {
    const options = Array.isArray(s) ? s : [s];
    if (!options.some((o) => satisfied.includes(o))) {
      problems.push(`satisfied lacks ${options.join('|')}`);
    }
  }
  for (const s of e.notSatisfied ?? []) {
    if (satisfied.includes(s)) {
      problems.push(`satisfied wrongly has ${s}`);
    }
  }
  for (const m of e.missing ?? []) {
    if (!missing.includes(m)) {
      problems.push(`missing lacks ${m}`);
    }
  }
  for (const m of e.notMissing ?? []) {
    if (missing.includes(m)) {
      problems.push(`missing wrongly has ${m}`);
    }
  }
  if (e.decision !== 'documentation-needed' && missing.length > 0) {
    problems.push(`missing must be empty for ${e.decision ?? ''}`);
  }
  return problems;
}
