// The reviewers' dashboard (issue #14). Every figure comes from the audit API (/audit/summary/*,
// /audit/determinations) with the reviewer's bearer token, which lives in this module's memory only: never a
// cookie, never localStorage or sessionStorage. Charts by Chart.js; each has its numbers as a table beside it
// (the text alternative). Card markdown is rendered by marked and sanitised by DOMPurify: the card was written
// by this service, but it quotes record text.
import { marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';

const Chart = window.Chart;
const DAY_MS = 86_400_000;
const DECISIONS = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria'];
const DECISION_LABEL = { 'meets-criteria': 'Meets criteria', 'documentation-needed': 'Documentation needed', 'does-not-meet-criteria': 'Does not meet criteria', all: 'All decisions' };
// A symbol beside every decision name in tables: the decision is never told by colour alone.
const DECISION_MARK = { 'meets-criteria': '✓', 'documentation-needed': '?', 'does-not-meet-criteria': '✗', all: '' };
const COLOURS = { 'meets-criteria': '#2e7d32', 'documentation-needed': '#a15c00', 'does-not-meet-criteria': '#b3261e', neutral: '#2b5fa8', second: '#6a3d9a' };

/** The reviewer's token: in memory for this tab only. */
let token = null;
const charts = new Map();
let tableCursor = null;
let lastQuery = null;
let returnFocus = null;

const $ = (id) => document.getElementById(id);
const nf = new Intl.NumberFormat('en-US');
const pct = (x) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;
const ms = (x) => (x === null ? '—' : `${x.toFixed(1)} ms`);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function decisionCell(decision) {
  return el('span', { class: `decision ${decision}` }, `${DECISION_MARK[decision] ?? ''} ${DECISION_LABEL[decision] ?? decision}`.trim());
}

/**
 * A table of numbers: columns are { label, num?, cell(row) → string | Node }.
 * @returns the <table>, or a sentence when there are no rows (an empty chart must say so).
 */
function table(caption, columns, rows, emptyText = 'Nothing recorded in this period.') {
  if (rows.length === 0) {
    return el('p', { class: 'empty' }, emptyText);
  }
  return el(
    'table',
    {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : undefined }, c.label)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c, i) => el(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : undefined, class: c.num ? 'num' : undefined }, c.cell(r)))))),
  );
}

function put(id, node) {
  $(id).replaceChildren(node);
}

/** Fill patterns, so that stacked decisions differ by more than colour (stripes, dots, solid). */
function pattern(colour, kind) {
  if (kind === 'solid') return colour;
  const c = document.createElement('canvas');
  c.width = 10;
  c.height = 10;
  const g = c.getContext('2d');
  g.fillStyle = colour;
  g.fillRect(0, 0, 10, 10);
  g.strokeStyle = 'rgba(255,255,255,0.8)';
  g.fillStyle = 'rgba(255,255,255,0.85)';
  g.lineWidth = 2;
  if (kind === 'stripes') {
    g.beginPath();
    g.moveTo(0, 10);
    g.lineTo(10, 0);
    g.moveTo(-5, 5);
    g.lineTo(5, -5);
    g.moveTo(5, 15);
    g.lineTo(15, 5);
    g.stroke();
  } else {
    g.beginPath();
    g.arc(5, 5, 1.8, 0, Math.PI * 2);
    g.fill();
  }
  return g.createPattern(c, 'repeat');
}
const FILL = { 'meets-criteria': 'solid', 'documentation-needed': 'stripes', 'does-not-meet-criteria': 'dots' };

function draw(id, config) {
  charts.get(id)?.destroy();
  const canvas = $(id);
  const chart = new Chart(canvas, {
    ...config,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: 'bottom' }, ...(config.options?.plugins ?? {}) },
      ...(config.options ?? {}),
    },
  });
  charts.set(id, chart);
  canvas.closest('figure')?.setAttribute('data-rendered', 'true');
}

// ---------------------------------------------------------------------------------------------------------
// The audit API

class ApiError extends Error {
  constructor(status, text) {
    super(text);
    this.status = status;
  }
}

async function api(path, params = {}, accept = 'application/json') {
  const url = new URL(`../audit/${path}`, document.baseURI);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: accept }, cache: 'no-store', credentials: 'omit' });
  if (!res.ok) {
    let text = `HTTP ${res.status}`;
    try {
      const outcome = await res.json();
      const issue = outcome.issue?.[0];
      text = [issue?.details?.text, issue?.diagnostics].filter(Boolean).join(': ') || text;
    } catch {
      // not an OperationOutcome
    }
    throw new ApiError(res.status, text);
  }
  return accept === 'text/csv' ? res.blob() : res.json();
}

// ---------------------------------------------------------------------------------------------------------
// Period

function utcDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function defaultPeriod() {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  $('to').value = utcDay(today);
  $('from').value = utcDay(today - 29 * DAY_MS);
}

function query() {
  const since = `${$('from').value}T00:00:00Z`;
  const until = new Date(Date.parse(`${$('to').value}T00:00:00Z`) + DAY_MS).toISOString().replace('.000Z', 'Z');
  return { since, until, orderCode: $('order-code').value };
}

// ---------------------------------------------------------------------------------------------------------
// The figures

function renderDays(data) {
  const labels = data.days.map((d) => d.day);
  draw('chart-days', {
    type: 'bar',
    data: {
      labels,
      datasets: DECISIONS.map((k) => ({ label: DECISION_LABEL[k], data: data.days.map((d) => d[k]), backgroundColor: pattern(COLOURS[k], FILL[k]), borderColor: COLOURS[k], borderWidth: 1 })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'determinations' } } } },
  });
  const t = data.totals;
  $('days-totals').textContent = `${nf.format(t.total)} determinations — ${DECISIONS.map((k) => `${DECISION_LABEL[k]} ${nf.format(t[k])}`).join(', ')}.`;
  const rows = [...data.days.filter((d) => d.total > 0), { day: 'Total', ...t }];
  put(
    'table-days',
    table('Determinations per day, by decision (days without any are left out)', [
      { label: 'Day (UTC)', cell: (r) => r.day },
      ...DECISIONS.map((k) => ({ label: DECISION_LABEL[k], num: true, cell: (r) => nf.format(r[k]) })),
      { label: 'Total', num: true, cell: (r) => nf.format(r.total) },
    ], data.totals.total > 0 ? rows : []),
  );
}

function renderCodes(data, chosen) {
  const select = $('order-code');
  const codes = data.orderCodes.filter((o) => o.orderCode !== null).map((o) => o.orderCode);
  if (chosen && !codes.includes(chosen)) codes.push(chosen);
  select.replaceChildren(el('option', { value: '' }, 'All order codes'), ...codes.map((c) => el('option', { value: c }, c.split('|').reverse().join(' — '))));
  select.value = chosen;
  put(
    'table-codes',
    table('Determinations per order code', [
      { label: 'Order code', cell: (r) => r.orderCode ?? '(none recorded)' },
      ...DECISIONS.map((k) => ({ label: DECISION_LABEL[k], num: true, cell: (r) => nf.format(r[k]) })),
      { label: 'Total', num: true, cell: (r) => nf.format(r.total) },
    ], data.orderCodes),
  );
}

function renderSources(data) {
  $('sources-definition').textContent = data.definition;
  draw('chart-sources', {
    type: 'bar',
    data: { labels: data.sources.map((s) => s.label), datasets: [{ label: 'Share of determinations', data: data.sources.map((s) => s.share * 100), backgroundColor: COLOURS.neutral }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, max: 100, title: { display: true, text: '% of determinations' } } } },
  });
  const cols = [
    { label: 'Source', cell: (r) => r.label },
    { label: 'Determinations', num: true, cell: (r) => nf.format(r.determinations) },
    { label: 'Share', num: true, cell: (r) => pct(r.share) },
    ...DECISIONS.map((k) => ({ label: DECISION_LABEL[k], num: true, cell: (r) => nf.format(r.byDecision[k]) })),
  ];
  put('table-sources', table(`Determinations with evidence from each source (of ${nf.format(data.determinations)})`, cols, data.determinations > 0 ? data.sources : []));
  put('table-combinations', table('Determinations by the exact set of their sources', cols, data.combinations));
}

function renderMissing(data) {
  draw('chart-missing', {
    type: 'bar',
    data: { labels: data.facts.map((f) => f.words), datasets: [{ label: 'Determinations asking for it', data: data.facts.map((f) => f.determinations), backgroundColor: COLOURS['documentation-needed'] }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  put(
    'table-missing',
    table(`Most frequently missing facts (of ${nf.format(data.documentationNeeded)} documentation-needed determinations)`, [
      { label: 'Fact (policy words)', cell: (r) => r.words },
      { label: 'Fact id', cell: (r) => el('code', {}, r.fact) },
      { label: 'Determinations', num: true, cell: (r) => nf.format(r.determinations) },
      { label: 'Share', num: true, cell: (r) => pct(r.share) },
    ], data.facts),
  );
}

function renderFeedback(data) {
  draw('chart-feedback', {
    type: 'bar',
    data: {
      labels: data.decisions.map((d) => DECISION_LABEL[d.decision]),
      datasets: [
        { label: 'Accepted', data: data.decisions.map((d) => d.acceptanceRate * 100), backgroundColor: COLOURS.neutral },
        { label: 'Overridden', data: data.decisions.map((d) => d.overrideRate * 100), backgroundColor: pattern(COLOURS['does-not-meet-criteria'], 'stripes') },
      ],
    },
    options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: '% of cards shown' } } } },
  });
  put(
    'table-feedback',
    table('Feedback per decision', [
      { label: 'Decision', cell: (r) => decisionCell(r.decision) },
      { label: 'Cards shown', num: true, cell: (r) => nf.format(r.determinations) },
      { label: 'Accepted', num: true, cell: (r) => nf.format(r.accepted) },
      { label: 'Acceptance rate', num: true, cell: (r) => pct(r.acceptanceRate) },
      { label: 'Overridden', num: true, cell: (r) => nf.format(r.overridden) },
      { label: 'Override rate', num: true, cell: (r) => pct(r.overrideRate) },
    ], data.total.determinations > 0 ? [...data.decisions, data.total] : []),
  );
}

function renderReasons(data) {
  draw('chart-reasons', {
    type: 'bar',
    data: {
      labels: data.reasons.map((r) => r.display),
      datasets: DECISIONS.map((k) => ({ label: DECISION_LABEL[k], data: data.reasons.map((r) => r.byDecision[k]), backgroundColor: pattern(COLOURS[k], FILL[k]), borderColor: COLOURS[k], borderWidth: 1 })),
    },
    options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
  });
  put(
    'table-reasons',
    table(`Override reasons (${nf.format(data.overrides)} overrides)`, [
      { label: 'Reason', cell: (r) => r.display },
      { label: 'Code', cell: (r) => (r.code ? el('code', {}, r.code) : '—') },
      { label: 'Overrides', num: true, cell: (r) => nf.format(r.overrides) },
      ...DECISIONS.map((k) => ({ label: DECISION_LABEL[k], num: true, cell: (r) => nf.format(r.byDecision[k]) })),
    ], data.reasons),
  );
}

function renderCriteria(data) {
  const top = data.items.filter((i) => i.overridden > 0).slice(0, 10);
  const label = (i) => `${i.kind === 'missing' ? 'missing' : 'satisfied'}: ${i.words}`;
  draw('chart-criteria', {
    type: 'bar',
    data: { labels: top.map(label), datasets: [{ label: 'Overridden cards', data: top.map((i) => i.overridden), backgroundColor: top.map((i) => (i.kind === 'missing' ? pattern(COLOURS['documentation-needed'], 'stripes') : COLOURS.neutral)) }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  put(
    'table-criteria',
    table('Overrides per criterion (the ten most overridden)', [
      { label: 'Criterion or fact (policy words)', cell: (r) => r.words },
      { label: 'On the card as', cell: (r) => r.kind },
      { label: 'Id', cell: (r) => el('code', {}, r.id) },
      { label: 'Cards', num: true, cell: (r) => nf.format(r.determinations) },
      { label: 'Overridden', num: true, cell: (r) => nf.format(r.overridden) },
      { label: 'Override rate', num: true, cell: (r) => pct(r.overrideRate) },
    ], top, 'No card was overridden in this period.'),
  );
}

function renderFhir(data) {
  draw('chart-fhir', {
    type: 'bar',
    data: { labels: data.failures.map((f) => `${f.resourceType}: ${f.failure}`), datasets: [{ label: 'Calls', data: data.failures.map((f) => f.invocations), backgroundColor: pattern(COLOURS['does-not-meet-criteria'], 'dots') }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  $('fhir-caption').textContent = `${nf.format(data.withFailure)} of ${nf.format(data.invocations)} calls had at least one FHIR failure.`;
  put(
    'table-fhir',
    table('FHIR failures by resource type and failure kind', [
      { label: 'Resource type', cell: (r) => r.resourceType },
      { label: 'Failure', cell: (r) => r.failure },
      { label: 'Calls', num: true, cell: (r) => nf.format(r.invocations) },
    ], data.failures, 'No FHIR failure in this period.'),
  );
}

function renderDurations(data) {
  draw('chart-durations', {
    type: 'line',
    data: {
      labels: data.days.map((d) => d.day),
      datasets: [
        { label: 'p50 (median)', data: data.days.map((d) => d.p50Ms), borderColor: COLOURS.neutral, backgroundColor: COLOURS.neutral, pointStyle: 'circle', spanGaps: false },
        { label: 'p95', data: data.days.map((d) => d.p95Ms), borderColor: COLOURS.second, backgroundColor: COLOURS.second, borderDash: [6, 4], pointStyle: 'triangle', pointRadius: 4, spanGaps: false },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'milliseconds' } } } },
  });
  put(
    'table-durations',
    table('Hook duration per day (days without calls are left out)', [
      { label: 'Day (UTC)', cell: (r) => r.day },
      { label: 'Calls', num: true, cell: (r) => nf.format(r.invocations) },
      { label: 'p50', num: true, cell: (r) => ms(r.p50Ms) },
      { label: 'p95', num: true, cell: (r) => ms(r.p95Ms) },
    ], data.days.filter((d) => d.invocations > 0)),
  );
}

function renderNotes(data) {
  draw('chart-notes', {
    type: 'bar',
    data: { labels: data.reasons.map((r) => r.reason), datasets: [{ label: 'Notes not read', data: data.reasons.map((r) => r.notes), backgroundColor: COLOURS.second }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  put(
    'table-notes',
    table(`Notes not read, by reason (${nf.format(data.notes)} notes)`, [
      { label: 'Reason', cell: (r) => r.reason },
      { label: 'Notes', num: true, cell: (r) => nf.format(r.notes) },
      { label: 'Determinations', num: true, cell: (r) => nf.format(r.determinations) },
    ], data.reasons, 'Every note offered was read in this period.'),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The table of recent determinations

const timeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

function recentRows(items) {
  return items.map((l) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, `${timeFormat.format(new Date(l.receivedAt))} UTC`),
      el('td', {}, l.order),
      el('td', {}, l.orderCode ? l.orderCode.split('|').pop() : '—'),
      el('td', {}, decisionCell(l.decision)),
      el('td', {}, l.mainReasonWords ?? l.mainReason ?? '—'),
      el('td', {}, l.feedback.length > 0 ? l.feedback.join(', ') : '—'),
      el('td', {}, el('button', { type: 'button', class: 'open', 'data-id': l.id, 'aria-label': `Open the determination of ${l.order} at ${timeFormat.format(new Date(l.receivedAt))}` }, 'Open')),
    ),
  );
}

async function loadRecent(append) {
  const params = { ...lastQuery, decision: $('decision-filter').value, limit: '25', ...(append && tableCursor ? { cursor: tableCursor } : {}) };
  const page = await api('determinations', params);
  tableCursor = page.next ?? null;
  $('more').hidden = tableCursor === null;
  const existing = append ? $('table-recent').querySelector('tbody') : null;
  if (existing) {
    existing.append(...recentRows(page.items));
    return;
  }
  if (page.items.length === 0) {
    put('table-recent', el('p', { class: 'empty' }, 'No determination in this period.'));
    return;
  }
  put(
    'table-recent',
    el(
      'table',
      { id: 'recent' },
      el('caption', {}, 'Recent determinations, newest first'),
      el('thead', {}, el('tr', {}, ['Time', 'Order', 'Order code', 'Decision', 'Main reason', 'Feedback', 'Details'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, recentRows(page.items)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// One determination

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** The card's markdown as HTML: GitHub-flavoured (CDS Hooks §Card Attributes), sanitised, no raw HTML kept. */
function markdown(text) {
  return DOMPurify.sanitize(marked.parse(String(text ?? ''), { gfm: true, async: false }), { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'img'] });
}

function cardView(card) {
  if (!card) {
    return el('p', { class: 'empty' }, 'No card was recorded for this determination.');
  }
  const detail = el('div', { class: 'detail' });
  detail.innerHTML = markdown(card.detail);
  const links = (card.links ?? []).map((l) => el('li', {}, /^https?:\/\//.test(l.url) ? el('a', { href: l.url, target: '_blank', rel: 'noopener noreferrer' }, l.label) : l.label));
  const suggestions = (card.suggestions ?? []).map((s) => el('li', {}, s.label, s.isRecommended ? ' (recommended)' : ''));
  return el(
    'article',
    { class: `card ${card.indicator ?? 'info'}`, 'aria-label': 'The card as the clinician saw it' },
    el('div', { class: 'indicator' }, `Indicator: ${card.indicator ?? 'info'}`),
    el('div', { class: 'summary' }, card.summary ?? ''),
    detail,
    suggestions.length > 0 ? el('div', {}, el('strong', {}, 'Suggestions'), el('ul', {}, suggestions)) : null,
    links.length > 0 ? el('div', {}, el('strong', {}, 'Links'), el('ul', {}, links)) : null,
    el('p', { class: 'meta' }, `Source: ${card.source?.label ?? ''}`),
  );
}

function valueOf(ext) {
  const key = Object.keys(ext).find((k) => k.startsWith('value'));
  if (!key) return '';
  const v = ext[key];
  if (typeof v !== 'object' || v === null) return String(v);
  return v.reference ?? v.text ?? v.code ?? JSON.stringify(v);
}

function coverageView(list) {
  if (list.length === 0) {
    return el('p', { class: 'empty' }, 'No coverage information was sent for this order.');
  }
  return list.map((c) => el('dl', { class: 'coverage' }, (c.extension ?? []).flatMap((e) => [el('dt', {}, e.url), el('dd', {}, valueOf(e))])));
}

function detailView(d) {
  const det = d.determination;
  const words = (id) => d.words[id] ?? id;
  const evidence = table('Evidence behind the facts that hold', [
    { label: 'Fact', cell: (e) => words(e.fact) },
    { label: 'Source', cell: (e) => ({ code: 'code', note: 'note', answer: 'answer' })[e.source] ?? e.source },
    { label: 'Reference', cell: (e) => el('code', {}, e.reference) },
    { label: 'Note quote', cell: (e) => (e.quote ? el('blockquote', { class: 'quote' }, `“${e.quote}”`, e.assertion ? ` (${e.assertion}${e.span ? `, ${e.span.in} ${e.span.start}–${e.span.end}` : ''})` : '') : '—') },
  ], det.evidence, 'No evidence was recorded.');
  const feedback = d.feedback.length === 0
    ? el('p', { class: 'empty' }, 'No feedback was received for this card.')
    : el('ul', {}, d.feedback.map((f) => el('li', {}, `${f.outcome} at ${f.outcomeAt}`, f.overrideReasonDisplay ? ` — reason: ${f.overrideReasonDisplay}` : '', f.userComment ? ` — comment: “${f.userComment}”` : '', f.acceptedSuggestions.length > 0 ? ` — suggestions accepted: ${f.acceptedSuggestions.length}` : '')));
  return [
    el('p', {}, decisionCell(det.decision), ` — ${det.order} (${det.orderCode ?? 'no code recorded'}), patient ${d.invocation.patientId}, ${timeFormat.format(new Date(d.invocation.receivedAt))} UTC, ${d.invocation.hook}, policy ${d.invocation.policy.id} ${d.invocation.policy.version}.`),
    el('h3', {}, 'The card'),
    cardView(d.card),
    el('h3', {}, 'Criteria'),
    el('p', {}, el('strong', {}, 'Satisfied: '), det.satisfied.length > 0 ? det.satisfied.map(words).join('; ') : 'none'),
    el('p', {}, el('strong', {}, 'Missing: '), det.missing.length > 0 ? det.missing.map(words).join('; ') : 'none'),
    el('h3', {}, 'Evidence'),
    evidence,
    el('h3', {}, 'Coverage information (Da Vinci CRD)'),
    el('div', {}, coverageView(d.coverageInformation)),
    el('h3', {}, 'Feedback'),
    feedback,
    el('h3', {}, 'Operations'),
    el('p', {}, `FHIR requests: ${d.invocation.fhirRequests}; duration ${d.invocation.durationMs} ms; unreadable sources: ${d.invocation.unreadable.length > 0 ? d.invocation.unreadable.join(', ') : 'none'}.`),
    el('details', {}, el('summary', {}, 'The card as sent (JSON)'), el('pre', {}, JSON.stringify(d.card, null, 2))),
  ];
}

async function openDetermination(id, opener) {
  returnFocus = opener;
  const dialog = $('detail');
  $('detail-body').replaceChildren(el('p', {}, 'Loading…'));
  dialog.showModal();
  $('detail-heading').focus();
  try {
    const d = await api(`determinations/${encodeURIComponent(id)}`);
    $('detail-heading').textContent = `Determination: ${DECISION_LABEL[d.determination.decision]}`;
    $('detail-body').replaceChildren(...detailView(d));
  } catch (error) {
    $('detail-body').replaceChildren(el('p', { class: 'error', role: 'alert' }, `This determination could not be read: ${error.message}`));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading everything for a period

let loads = 0;

/**
 * Loads every figure of the period. When signing in, the dashboard is shown only once the token has opened the
 * record; a refused token returns to the sign-in form. Resolves whether the figures were shown.
 */
async function load({ signingIn = false } = {}) {
  const generation = ++loads;
  let failed = false;
  const q = query();
  lastQuery = q;
  $('load-error').textContent = '';
  $('status').textContent = 'Loading…';
  document.body.dataset.state = 'loading';
  for (const f of document.querySelectorAll('figure[data-rendered]')) f.removeAttribute('data-rendered');
  if (signingIn) {
    // Shown at once so the charts are sized as they arrive; a refused token puts the sign-in form back.
    $('signin').hidden = true;
    $('dashboard').hidden = false;
  }
  const started = performance.now();
  try {
    // Each figure is drawn as soon as its numbers arrive, so the first chart does not wait for the slowest.
    let total = 0;
    // A figure arriving after another failed, or after a newer period was asked for, is not drawn.
    const figure = (path, render) => api(path, q).then((d) => (generation === loads && !failed ? render(d) : undefined));
    // The first view (the period, the order codes and the chart at the top) is asked for first, alone, so it is
    // not queued behind the other figures on the database; the rest follow together.
    await Promise.all([
      figure('summary/decisions-per-day', (d) => {
        renderDays(d);
        total = d.totals.total;
      }),
      figure('summary/order-codes', (d) => renderCodes(d, q.orderCode)),
    ]);
    await Promise.all([
      figure('summary/fact-sources', renderSources),
      figure('summary/missing-facts', renderMissing),
      figure('summary/feedback', renderFeedback),
      figure('summary/override-reasons', renderReasons),
      figure('summary/overrides-by-criterion', renderCriteria),
      figure('summary/fhir-failures', renderFhir),
      figure('summary/hook-durations', renderDurations),
      figure('summary/notes-unread', renderNotes),
      loadRecent(false),
    ]);
    $('status').textContent = `${$('from').value} to ${$('to').value} (UTC days)${q.orderCode ? `, order code ${q.orderCode}` : ', all order codes'}: ${nf.format(total)} determinations. Loaded in ${Math.round(performance.now() - started)} ms.`;
    document.body.dataset.state = 'ready';
    return true;
  } catch (error) {
    failed = true;
    if (generation !== loads) return false;
    document.body.dataset.state = 'error';
    $('status').textContent = '';
    if (error instanceof ApiError && error.status === 401) {
      signOut(signingIn ? 'That token is not a reviewer token.' : 'The reviewer token was refused. Sign in again.');
      return false;
    }
    // Never stale or empty figures that could pass for a quiet period: say what could not be done.
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    for (const t of document.querySelectorAll('#dashboard .table')) t.replaceChildren();
    $('load-error').textContent = `The figures could not be loaded: ${error.message}`;
    return true;
  }
}

async function downloadCsv(path) {
  try {
    const params = { ...(lastQuery ?? query()), format: 'csv', ...(path === 'determinations' && $('decision-filter').value ? { decision: $('decision-filter').value } : {}) };
    const blob = await api(path, params, 'text/csv');
    const a = el('a', { href: URL.createObjectURL(blob), download: `${path.replace('summary/', '')}_${$('from').value}_${$('to').value}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (error) {
    $('load-error').textContent = `The CSV could not be downloaded: ${error.message}`;
  }
}

function signOut(message = '') {
  token = null;
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  for (const t of document.querySelectorAll('#dashboard .table')) t.replaceChildren();
  $('dashboard').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
  $('token').value = '';
  $('token').focus();
  document.body.dataset.state = 'signed-out';
}

// ---------------------------------------------------------------------------------------------------------
// Wiring

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = $('token').value.trim();
  $('token').value = '';
  $('signin-error').textContent = '';
  token = candidate;
  defaultPeriod();
  // The first load decides whether the token opens the record: nothing is shown until it has answered.
  const opened = await load({ signingIn: true });
  if (!opened) {
    return;
  }
  $('period-heading').focus();
});

$('period-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if ($('from').value > $('to').value) {
    $('load-error').textContent = 'The first day must not be after the last day.';
    $('from').focus();
    return;
  }
  void load();
});
$('signout').addEventListener('click', () => signOut('Signed out: the token is forgotten.'));
$('decision-filter').addEventListener('change', () => void loadRecent(false).catch((e) => ($('load-error').textContent = `The table could not be loaded: ${e.message}`)));
$('more').addEventListener('click', () => void loadRecent(true).catch((e) => ($('load-error').textContent = `The table could not be loaded: ${e.message}`)));
$('table-recent').addEventListener('click', (event) => {
  const button = event.target.closest('button.open');
  if (button) void openDetermination(button.dataset.id, button);
});
for (const button of document.querySelectorAll('button.csv')) {
  button.addEventListener('click', () => void downloadCsv(button.dataset.csv));
}
$('detail-close').addEventListener('click', () => $('detail').close());
$('detail').addEventListener('close', () => returnFocus?.focus());
document.body.dataset.state = 'signed-out';
