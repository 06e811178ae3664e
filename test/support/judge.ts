import type { Scenario } from './scenarios.js';

/** The parts of a determination a scenario's expectation speaks about. */
export interface DeterminationView {
  readonly decision: string;
  readonly satisfied?: readonly string[];
  readonly missing?: readonly string[];
  readonly evidence?: readonly { readonly fact: string; readonly reference: string; readonly assertion?: string; readonly span?: { readonly in: string; readonly start: number; readonly end: number } }[];
}

type EvidenceItem = NonNullable<DeterminationView['evidence']>[number];

/** Compared as the scenario README says: case-insensitive, runs of whitespace, '-' and '/' alike. */
const words = (x: string | undefined): string => (x ?? '').toLowerCase().replace(/[\s\-/]+/g, ' ').trim();

/** The text a note evidence span points at (SPEC §8.4), read from the scenario's own resources. */
export function spanText(scenario: Scenario, e: EvidenceItem): string | undefined {
  const [type, id] = e.reference.split('/');
  const r = scenario.resources.find((x) => x.resourceType === type && x.id === id) as Record<string, unknown> | undefined;
  const m = /^(content|presentedForm)\[(\d+)\]$|^conclusion$/.exec(e.span?.in ?? '');
  if (!r || !m || !e.span) {
    return undefined;
  }
  let text: string | undefined;
  if (m[1] === undefined) {
    text = typeof r.conclusion === 'string' ? r.conclusion : undefined;
  } else {
    const parts = (m[1] === 'content' ? ((r.content as { attachment?: Record<string, unknown> }[] | undefined) ?? []).map((c) => c.attachment) : ((r.presentedForm as Record<string, unknown>[] | undefined) ?? []));
    const attachment = parts[Number(m[2])];
    const binary = typeof attachment?.url === 'string' ? (scenario.resources.find((x) => x.resourceType === 'Binary' && `Binary/${x.id ?? ''}` === attachment.url) as { data?: string } | undefined) : undefined;
    const data = (attachment?.data as string | undefined) ?? binary?.data;
    text = data !== undefined ? Buffer.from(data, 'base64').toString('utf8') : undefined;
  }
  return text?.slice(e.span.start, e.span.end);
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
  for (const want of e.evidence ?? []) {
    const hits = (det.evidence ?? []).filter(
      (x) => x.fact === want.fact && (want.reference === undefined || x.reference === want.reference) && (want.assertion === undefined || x.assertion === want.assertion),
    );
    if (hits.length === 0) {
      problems.push(`evidence lacks ${want.fact} ${want.reference ?? ''} ${want.assertion ?? ''}`.trim());
    } else if (want.quote !== undefined && !hits.some((x) => words(spanText(scenario, x)) === words(want.quote))) {
      problems.push(`evidence span for ${want.fact} is not "${want.quote}" (got "${spanText(scenario, hits[0] as EvidenceItem) ?? 'no span'}")`);
    }
  }
  return problems;
}
