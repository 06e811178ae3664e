/**
 * Structural checks on a CDS Hooks response, written from CDS Hooks 2.0.1 §CDS Service Response and the
 * Da Vinci CRD coverage-information invariants crd-ci-q1…q9. Returns the problems found.
 */
const COVERAGE_INFORMATION = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

type Json = Record<string, unknown>;

function isEmpty(v: unknown): boolean {
  return v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

function emptyValues(v: unknown, path: string, out: string[]): void {
  if (typeof v !== 'object' || v === null) {
    return;
  }
  for (const [k, child] of Object.entries(v)) {
    const p = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
    if (isEmpty(child) && p !== '$.cards') {
      out.push(`empty value at ${p}`);
    }
    emptyValues(child, p, out);
  }
}

/** CRD coverage-information invariants on one extension. */
export function coverageInformationProblems(ext: Json): string[] {
  const parts = (ext.extension as Json[] | undefined) ?? [];
  const all = (url: string): Json[] => parts.filter((p) => p.url === url);
  const code = (url: string): unknown => all(url)[0]?.valueCode;
  const problems: string[] = [];
  for (const one of ['coverage', 'covered', 'date', 'coverage-assertion-id']) {
    if (all(one).length !== 1) {
      problems.push(`${one} must occur once`);
    }
  }
  if (!['covered', 'not-covered', 'conditional', 'indeterminate'].includes(String(code('covered')))) {
    problems.push('covered has no valid code');
  }
  if (all('questionnaire').length > 0 && all('doc-needed').length === 0) {
    problems.push('crd-ci-q1: questionnaire without doc-needed');
  }
  if (code('covered') === 'not-covered' && all('pa-needed').length > 0) {
    problems.push('crd-ci-q2: not-covered with pa-needed');
  }
  const conditional = ['covered', 'pa-needed', 'doc-needed'].some((u) => all(u).some((p) => p.valueCode === 'conditional'));
  if (conditional && all('info-needed').length === 0) {
    problems.push('crd-ci-q3: conditional without info-needed');
  }
  if (['satisfied', 'no-auth'].includes(String(code('pa-needed'))) && all('doc-purpose').some((p) => p.valueCode === 'withpa')) {
    problems.push('crd-ci-q4: withpa with pa-needed satisfied');
  }
  if ((code('pa-needed') === 'satisfied') !== (all('satisfied-pa-id').length > 0)) {
    problems.push('crd-ci-q5: satisfied-pa-id iff pa-needed satisfied');
  }
  if (all('info-needed').some((p) => p.valueCode === 'OTH') && all('reason').length === 0) {
    problems.push('crd-ci-q6: info-needed OTH without reason');
  }
  for (const r of all('reason')) {
    const cc = r.valueCodeableConcept as Json | undefined;
    if (!cc?.text) {
      problems.push('crd-ci-q7: reason without text');
    }
  }
  if (all('doc-purpose').some((p) => p.valueCode !== 'conditional') && all('reason').length === 0) {
    problems.push('crd-ci-q8: doc-purpose without reason');
  }
  const indeterminate = ['covered', 'pa-needed', 'doc-needed'].some((u) => all(u).some((p) => p.valueCode === 'indeterminate'));
  if (indeterminate && all('reason').length === 0) {
    problems.push('crd-ci-q9: indeterminate without reason');
  }
  return problems;
}

/** Every structural problem of a hook response. */
export function responseProblems(body: Json): string[] {
  const problems: string[] = [];
  emptyValues(body, '$', problems);
  const cards = body.cards as Json[] | undefined;
  if (!Array.isArray(cards)) {
    return [...problems, 'no cards array'];
  }
  cards.forEach((c, i) => {
    const at = `cards[${i}]`;
    if (typeof c.summary !== 'string' || c.summary.length >= 140) {
      problems.push(`${at}.summary missing or 140 characters or more`);
    }
    if (!['info', 'warning', 'critical'].includes(String(c.indicator))) {
      problems.push(`${at}.indicator invalid`);
    }
    if (!(c.source as Json | undefined)?.label) {
      problems.push(`${at}.source.label missing`);
    }
    if (typeof c.uuid !== 'string') {
      problems.push(`${at}.uuid missing`);
    }
    for (const l of (c.links as Json[] | undefined) ?? []) {
      if (!l.label || !/^https?:\/\//.test(String(l.url)) || !['absolute', 'smart'].includes(String(l.type))) {
        problems.push(`${at}.links need label, absolute url and type`);
      }
    }
    for (const o of (c.overrideReasons as Json[] | undefined) ?? []) {
      if (!o.code || !o.system || !o.display) {
        problems.push(`${at}.overrideReasons need code, system and display`);
      }
    }
    const suggestions = (c.suggestions as Json[] | undefined) ?? [];
    if (suggestions.length > 0 && !['at-most-one', 'any'].includes(String(c.selectionBehavior))) {
      problems.push(`${at}.selectionBehavior missing`);
    }
    for (const s of suggestions) {
      if (!s.label || !s.uuid) {
        problems.push(`${at}.suggestions need label and uuid`);
      }
    }
  });
  for (const a of (body.systemActions as Json[] | undefined) ?? []) {
    if (!['create', 'update', 'delete'].includes(String(a.type)) || !a.description) {
      problems.push('systemActions need a type and a description');
    }
    const resource = a.resource as Json | undefined;
    for (const ext of ((resource?.extension as Json[] | undefined) ?? []).filter((e) => e.url === COVERAGE_INFORMATION)) {
      problems.push(...coverageInformationProblems(ext));
    }
  }
  return problems;
}

/** The `covered` code of the coverage-information action on an order, if any. */
export function coveredCode(body: Json, orderId: string): string | undefined {
  for (const a of (body.systemActions as Json[] | undefined) ?? []) {
    const resource = a.resource as Json | undefined;
    if (resource?.id !== orderId) {
      continue;
    }
    const ext = ((resource.extension as Json[] | undefined) ?? []).find((e) => e.url === COVERAGE_INFORMATION);
    const covered = ((ext?.extension as Json[] | undefined) ?? []).find((e) => e.url === 'covered');
    if (covered) {
      return String(covered.valueCode);
    }
  }
  return undefined;
}

/** The determination extensions of the cards. */
export function determinations(body: Json): Json[] {
  return ((body.cards as Json[] | undefined) ?? []).flatMap((c) => {
    const d = (c.extension as Json | undefined)?.['necessity.determination'];
    return d && typeof d === 'object' ? [d as Json] : [];
  });
}
