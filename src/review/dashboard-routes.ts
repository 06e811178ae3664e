import type express from 'express';
import type { Decision } from '../engine/decide.js';
import { ServiceError } from '../http/errors.js';
import {
  DECISIONS,
  EVIDENCE_SOURCES,
  MAX_EXPORT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type AssertionRecord,
  type DashboardFilter,
  type DashboardQueries,
  type DeterminationLine,
  type EvidenceSource,
  type FeedbackRecord,
  type JsonValue,
} from '../store/record-store.js';
import { csvLine, csvTable, type CsvValue } from './csv.js';
import { dashboardQuery, daysOf, type Accepts, type DashboardQuery } from './dashboard-query.js';
import { fromStore } from './query-parameters.js';
import type { ReviewVocabulary } from './vocabulary.js';

export interface DashboardDeps {
  readonly store: DashboardQueries;
  readonly vocabulary: ReviewVocabulary;
  /** The clock, so tests can fix "the last 30 days". */
  readonly clock?: () => number;
}

/**
 * Issue #14's definition of "where the deciding facts came from", written once here and shown on the page and
 * in the README.
 */
export const FACT_SOURCE_DEFINITION =
  'For each determination, the sources of the evidence recorded for it: the facts shown on its card as holding, each backed by a coded resource (codes), a quoted clinical note (notes) or the clinician’s questionnaire answer (answers). A determination counts once for every source present, so the shares may add up to more than 100 %; "none" counts determinations with no evidence recorded. The combinations below count each determination exactly once.';

/** A figure the endpoint answers: its JSON, and the same numbers as one CSV table. */
interface Report {
  readonly name: string;
  readonly json: Record<string, unknown>;
  readonly header: readonly string[];
  readonly rows: readonly (readonly CsvValue[])[];
}

type ByDecision = Record<Decision, number>;

const zero = (): ByDecision => ({ 'meets-criteria': 0, 'documentation-needed': 0, 'does-not-meet-criteria': 0 });
const sum = (b: ByDecision): number => DECISIONS.reduce((s, d) => s + b[d], 0);
/** A share to four decimals (0.1234 = 12.34 %); 0 when there is nothing to share. */
const share = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const iso = (ms: number): string => new Date(ms).toISOString();

const SOURCE_LABEL: Readonly<Record<EvidenceSource | 'none', string>> = { code: 'codes', note: 'notes', answer: 'answers', none: 'none' };

/**
 * The dashboard's JSON endpoints under /audit/ (issue #14), added to the audit router behind the reviewer
 * credential. Each answers one chart or table of /review, for `?since=&until=&orderCode=` (default the last 30
 * days), as JSON or, with `format=csv`, as CSV. Every figure is one SQL aggregation in the store.
 * @param router - the audit router (its reviewer authentication already in front)
 * @param deps - the store's dashboard queries, the policy's words and the clock
 */
export function addDashboardRoutes(router: express.Router, deps: DashboardDeps): void {
  const { store, vocabulary } = deps;
  const clock = deps.clock ?? Date.now;
  const period = (f: DashboardFilter): Record<string, string> => ({ since: iso(f.since), until: iso(f.until), ...(f.orderCode !== undefined ? { orderCode: f.orderCode } : {}) });

  const report = (path: string, accepts: Accepts, build: (q: DashboardQuery) => Promise<Report>): void => {
    router.get(path, async (req, res) => {
      const q = dashboardQuery(req.query as Record<string, unknown>, clock(), accepts);
      const r = await fromStore(() => build(q));
      if (q.format === 'csv') {
        sendCsv(res, fileName(r.name, q.filter), csvTable(r.header, r.rows));
        return;
      }
      res.json({ period: period(q.filter), ...r.json });
    });
  };

  // Chart 1: determinations per day, stacked by decision, with the totals.
  report('/summary/decisions-per-day', {}, async (q) => {
    const rows = await store.decisionsPerDay(q.filter);
    const byDay = new Map(daysOf(q.filter).map((d) => [d, zero()]));
    const totals = zero();
    for (const r of rows) {
      const day = byDay.get(r.day) ?? zero();
      day[r.decision] += r.determinations;
      byDay.set(r.day, day);
      totals[r.decision] += r.determinations;
    }
    const days = [...byDay].map(([day, b]) => ({ day, ...b, total: sum(b) }));
    return {
      name: 'decisions-per-day',
      json: { days, totals: { ...totals, total: sum(totals) } },
      header: ['day', ...DECISIONS, 'total'],
      rows: days.map((d) => [d.day, ...DECISIONS.map((k) => d[k]), d.total]),
    };
  });

  // The period's order codes (the filter's choices), with their determinations by decision.
  report('/summary/order-codes', {}, async (q) => {
    const rows = await store.orderCodes(q.filter);
    const byCode = new Map<string | null, ByDecision>();
    for (const r of rows) {
      const b = byCode.get(r.orderCode) ?? zero();
      b[r.decision] += r.determinations;
      byCode.set(r.orderCode, b);
    }
    const orderCodes = [...byCode].map(([orderCode, b]) => ({ orderCode, ...b, total: sum(b) })).sort((a, b) => b.total - a.total || String(a.orderCode).localeCompare(String(b.orderCode)));
    return {
      name: 'order-codes',
      json: { orderCodes },
      header: ['orderCode', ...DECISIONS, 'total'],
      rows: orderCodes.map((o) => [o.orderCode, ...DECISIONS.map((k) => o[k]), o.total]),
    };
  });

  // Chart 2: where the deciding facts came from.
  report('/summary/fact-sources', {}, async (q) => {
    const rows = await store.factSources(q.filter);
    const perSource = new Map<EvidenceSource | 'none', ByDecision>([...EVIDENCE_SOURCES, 'none' as const].map((s) => [s, zero()]));
    const perSet = new Map<string, { sources: EvidenceSource[]; byDecision: ByDecision }>();
    const all = zero();
    for (const r of rows) {
      all[r.decision] += r.determinations;
      for (const s of r.sources.length > 0 ? r.sources : (['none'] as const)) {
        (perSource.get(s) ?? zero())[r.decision] += r.determinations;
      }
      const key = r.sources.join('+');
      const set = perSet.get(key) ?? { sources: [...r.sources], byDecision: zero() };
      set.byDecision[r.decision] += r.determinations;
      perSet.set(key, set);
    }
    const determinations = sum(all);
    const sources = [...perSource].map(([source, b]) => ({ source, label: SOURCE_LABEL[source], determinations: sum(b), share: share(sum(b), determinations), byDecision: b }));
    const combinations = [...perSet.values()]
      .map((s) => ({ sources: s.sources, label: s.sources.length > 0 ? s.sources.map((x) => SOURCE_LABEL[x]).join(' + ') : 'none', determinations: sum(s.byDecision), share: share(sum(s.byDecision), determinations), byDecision: s.byDecision }))
      .sort((a, b) => b.determinations - a.determinations || a.label.localeCompare(b.label));
    return {
      name: 'fact-sources',
      json: { definition: FACT_SOURCE_DEFINITION, determinations, byDecision: all, sources, combinations },
      header: ['source', 'determinations', 'share', ...DECISIONS],
      rows: sources.map((s) => [s.label, s.determinations, s.share, ...DECISIONS.map((k) => s.byDecision[k])]),
    };
  });

  // Chart 3: the questions clinicians are asked most.
  report('/summary/missing-facts', { limit: { max: 50, default: 10 } }, async (q) => {
    const m = await store.missingFacts(q.filter, q.limit ?? 10);
    const facts = m.facts.map((f) => ({ fact: f.fact, words: vocabulary.words(f.fact), determinations: f.determinations, share: share(f.determinations, m.documentationNeeded) }));
    return {
      name: 'missing-facts',
      json: { documentationNeeded: m.documentationNeeded, facts },
      header: ['fact', 'words', 'determinations', 'shareOfDocumentationNeeded'],
      rows: facts.map((f) => [f.fact, f.words, f.determinations, f.share]),
    };
  });

  // Chart 4: acceptance and override rates per decision.
  report('/summary/feedback', {}, async (q) => {
    const rows = await store.feedbackByDecision(q.filter);
    const line = (decision: Decision | 'all', determinations: number, accepted: number, overridden: number): Record<string, unknown> & { cells: CsvValue[] } => {
      const rates = { acceptanceRate: share(accepted, determinations), overrideRate: share(overridden, determinations) };
      return { decision, determinations, accepted, overridden, ...rates, cells: [decision, determinations, accepted, overridden, rates.acceptanceRate, rates.overrideRate] };
    };
    const lines = DECISIONS.map((d) => {
      const r = rows.find((x) => x.decision === d);
      return line(d, r?.determinations ?? 0, r?.accepted ?? 0, r?.overridden ?? 0);
    });
    const total = line(
      'all',
      rows.reduce((s, r) => s + r.determinations, 0),
      rows.reduce((s, r) => s + r.accepted, 0),
      rows.reduce((s, r) => s + r.overridden, 0),
    );
    const strip = ({ cells: _cells, ...rest }: { cells: CsvValue[] }): Record<string, unknown> => rest;
    return {
      name: 'feedback',
      json: { decisions: lines.map(strip), total: strip(total) },
      header: ['decision', 'determinations', 'accepted', 'overridden', 'acceptanceRate', 'overrideRate'],
      rows: [...lines, total].map((l) => l.cells),
    };
  });

  // Chart 5: override reasons.
  report('/summary/override-reasons', {}, async (q) => {
    const rows = await store.overrideReasons(q.filter);
    const byReason = new Map<string, { code: string | null; system: string | null; byDecision: ByDecision }>();
    for (const r of rows) {
      const key = `${r.system ?? ''}|${r.code ?? ''}`;
      const reason = byReason.get(key) ?? { code: r.code, system: r.system, byDecision: zero() };
      reason.byDecision[r.decision] += r.overrides;
      byReason.set(key, reason);
    }
    const reasons = [...byReason.values()]
      .map((r) => ({ code: r.code, system: r.system, display: vocabulary.overrideReason(r.code, r.system), overrides: sum(r.byDecision), byDecision: r.byDecision }))
      .sort((a, b) => b.overrides - a.overrides || a.display.localeCompare(b.display));
    return {
      name: 'override-reasons',
      json: { overrides: reasons.reduce((s, r) => s + r.overrides, 0), reasons },
      header: ['code', 'display', 'overrides', ...DECISIONS],
      rows: reasons.map((r) => [r.code, r.display, r.overrides, ...DECISIONS.map((k) => r.byDecision[k])]),
    };
  });

  // Chart 6: overrides per satisfied or missing criterion.
  report('/summary/overrides-by-criterion', {}, async (q) => {
    const rows = await store.overridesByCriterion(q.filter);
    const items = rows.map((r) => ({ kind: r.kind, id: r.id, words: vocabulary.words(r.id), determinations: r.determinations, overridden: r.overridden, overrideRate: share(r.overridden, r.determinations) }));
    return {
      name: 'overrides-by-criterion',
      json: { items },
      header: ['kind', 'id', 'words', 'determinations', 'overridden', 'overrideRate'],
      rows: items.map((i) => [i.kind, i.id, i.words, i.determinations, i.overridden, i.overrideRate]),
    };
  });

  // Chart 7: FHIR failures by resource type and failure kind.
  report('/summary/fhir-failures', {}, async (q) => {
    const f = await store.fhirFailures(q.filter);
    return {
      name: 'fhir-failures',
      json: { invocations: f.invocations, withFailure: f.withFailure, failures: f.failures },
      header: ['resourceType', 'failure', 'invocations'],
      rows: f.failures.map((x) => [x.resourceType, x.failure, x.invocations]),
    };
  });

  // Chart 8: p50 / p95 hook duration per day (null on a day without calls).
  report('/summary/hook-durations', {}, async (q) => {
    const rows = new Map((await store.hookDurations(q.filter)).map((r) => [r.day, r]));
    const days = daysOf(q.filter).map((day) => {
      const r = rows.get(day);
      return { day, invocations: r?.invocations ?? 0, p50Ms: r?.p50Ms ?? null, p95Ms: r?.p95Ms ?? null };
    });
    return {
      name: 'hook-durations',
      json: { days },
      header: ['day', 'invocations', 'p50Ms', 'p95Ms'],
      rows: days.map((d) => [d.day, d.invocations, d.p50Ms, d.p95Ms]),
    };
  });

  // Chart 9: notes not read, by reason.
  report('/summary/notes-unread', {}, async (q) => {
    const reasons = await store.notesUnread(q.filter);
    return {
      name: 'notes-unread',
      json: { notes: reasons.reduce((s, r) => s + r.notes, 0), reasons },
      header: ['reason', 'notes', 'determinations'],
      rows: reasons.map((r) => [r.reason, r.notes, r.determinations]),
    };
  });

  // The table of recent determinations: newest first, paged by keyset; as CSV, the whole period.
  const LINE_HEADER = ['receivedAt', 'patientId', 'order', 'orderCode', 'decision', 'mainReason', 'mainReasonWords', 'feedback', 'coverageAssertionId', 'id'];
  const present = (l: DeterminationLine): Record<string, unknown> => ({
    ...l,
    receivedAt: iso(l.receivedAt),
    ...(l.mainReason !== undefined ? { mainReasonWords: vocabulary.words(l.mainReason) } : {}),
  });
  router.get('/determinations', async (req, res) => {
    const q = dashboardQuery(req.query as Record<string, unknown>, clock(), { decision: true, limit: { max: MAX_PAGE_SIZE, default: 50 }, cursor: true });
    const base = { ...q.filter, ...(q.decision !== undefined ? { decision: q.decision } : {}) };
    if (q.format === 'json') {
      const page = await fromStore(() => store.listDeterminations({ ...base, limit: q.limit ?? 50, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) }));
      res.json({ period: period(q.filter), items: page.items.map(present), ...(page.next !== undefined ? { next: page.next } : {}) });
      return;
    }
    // The whole period, a page of the store at a time: memory stays bounded by one page whatever the period holds.
    let page = await fromStore(() => store.listDeterminations({ ...base, limit: MAX_EXPORT_PAGE_SIZE, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) }));
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${fileName('determinations', q.filter)}"`);
    res.write(csvLine(LINE_HEADER));
    for (;;) {
      const chunk = page.items
        .map((l) => csvLine([iso(l.receivedAt), l.patientId, l.order, l.orderCode, l.decision, l.mainReason, l.mainReason !== undefined ? vocabulary.words(l.mainReason) : undefined, l.feedback.join(' '), l.coverageAssertionId, l.id]))
        .join('');
      if (!res.write(chunk)) {
        await new Promise((resolve) => res.once('drain', resolve));
      }
      const next = page.next;
      if (next === undefined || res.destroyed) {
        break;
      }
      try {
        page = await store.listDeterminations({ ...base, limit: MAX_EXPORT_PAGE_SIZE, cursor: next });
      } catch {
        // Headers are sent: the only honest signal left is to cut the download short, so it is not mistaken for whole.
        res.destroy();
        return;
      }
    }
    res.end();
  });

  // One determination: the card exactly as the clinician saw it, its evidence, the coverage information, its feedback.
  router.get('/determinations/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.\d{1,4}$/i.test(id)) {
      throw new ServiceError('INVALID_QUERY', 'id must be a determination id from the table (<call uuid>.<position>)', 'id');
    }
    if (Object.keys(req.query as object).length > 0) {
      throw new ServiceError('INVALID_QUERY', 'this endpoint takes no query parameters', Object.keys(req.query as object)[0]?.slice(0, 32));
    }
    const found = await fromStore(() => store.getDetermination(id));
    if (!found) {
      throw new ServiceError('DETERMINATION_NOT_FOUND');
    }
    res.json(presentDetermination(id, found, vocabulary));
  });
}


function fileName(name: string, f: DashboardFilter): string {
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return `${name}_${day(f.since)}_${day(f.until - 1)}.csv`;
}

function sendCsv(res: express.Response, name: string, body: string): void {
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  res.type('text/csv; charset=utf-8').send(body);
}

type Json = { readonly [key: string]: JsonValue };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayOf(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The card the determination was shown on, as sent (the response is kept byte for byte). */
export function cardOf(response: unknown, cardUuid: string | undefined): Json | null {
  if (cardUuid === undefined || !isObject(response)) {
    return null;
  }
  return arrayOf(response.cards).filter(isObject).find((c) => c.uuid === cardUuid) ?? null;
}

/**
 * The Da Vinci CRD coverage-information extensions the response's system actions put on the order (one per
 * coverage assessed), as sent.
 */
export function coverageInformationOf(response: unknown, order: string): Json[] {
  if (!isObject(response)) {
    return [];
  }
  return arrayOf(response.systemActions)
    .filter(isObject)
    .map((a) => a.resource)
    .filter(isObject)
    .filter((r) => `${String(r.resourceType)}/${String(r.id)}` === order)
    .flatMap((r) => arrayOf(r.extension).filter(isObject))
    .filter((e) => typeof e.url === 'string' && e.url.endsWith('/ext-coverage-information'));
}

function presentFeedback(f: FeedbackRecord, vocabulary: ReviewVocabulary): Record<string, unknown> {
  return {
    ...f,
    outcomeAt: iso(f.outcomeAt),
    receivedAt: iso(f.receivedAt),
    ...(f.overrideReason !== undefined ? { overrideReasonDisplay: vocabulary.overrideReason(f.overrideReason.code ?? null, f.overrideReason.system ?? null) } : {}),
  };
}

/** One determination as the page shows it: the policy's words for every id it names. */
export function presentDetermination(id: string, a: AssertionRecord, vocabulary: ReviewVocabulary): Record<string, unknown> {
  const { response, ...summary } = a.invocation;
  const d = a.determination;
  const ids = new Set([...d.satisfied, ...d.missing, ...d.evidence.map((e) => e.fact), ...(d.mainReason !== undefined ? [d.mainReason] : [])]);
  return {
    id,
    determination: d,
    words: Object.fromEntries([...ids].map((x) => [x, vocabulary.words(x)])),
    invocation: { ...summary, receivedAt: iso(summary.receivedAt), determinations: summary.determinations.length },
    card: cardOf(response, d.cardUuid),
    coverageInformation: coverageInformationOf(response, d.order),
    feedback: a.feedback.map((f) => presentFeedback(f, vocabulary)),
  };
}
