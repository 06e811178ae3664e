import { renderMarkdown } from './markdown.js';

const CPT = 'http://www.ama-assn.org/go/cpt';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const LUMBAR = { system: 'http://snomed.info/sct', code: '122496007', display: 'Lumbar spine structure' };
const CRD = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
const $ = (id) => document.getElementById(id);
const state = { patients: [], services: [], current: null, notes: [] };

const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : 'xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx'.replace(/x/g, () => ((Math.random() * 16) | 0).toString(16)));
const text = (value) => document.createTextNode(value ?? '');
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(typeof c === 'string' ? text(c) : c);
  return node;
}

async function getJson(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status, body });
  return body;
}

const fhir = (query) => getJson(`/fhir/${query}`, { headers: { accept: 'application/fhir+json' } });
const entries = (bundle) => (bundle?.entry ?? []).map((e) => e.resource).filter(Boolean);
const codeText = (cc) => cc?.text ?? cc?.coding?.[0]?.display ?? cc?.coding?.[0]?.code ?? '';
const day = (value) => (value ? String(value).slice(0, 10) : '');

async function init() {
  [state.patients, { services: state.services }] = await Promise.all([getJson('/demo/api/patients'), getJson('/cds-services')]);
  const list = $('patients');
  for (const p of state.patients) {
    list.append(
      el('li', {}, el('button', { type: 'button', 'aria-pressed': 'false', 'data-patient': p.id, onclick: () => choose(p.id) },
        el('span', { class: 'name' }, p.name), el('span', { class: 'expected' }, p.expected))),
    );
  }
  $('order-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void sign();
  });
  await choose(state.patients[0].id);
}

async function choose(id) {
  const p = state.patients.find((x) => x.id === id);
  state.current = p;
  for (const b of document.querySelectorAll('[data-patient]')) b.setAttribute('aria-pressed', String(b.dataset.patient === id));
  $('patient-name').textContent = p.name;
  $('patient-story').textContent = p.story;
  $('order-code').value = p.suggestedOrder.code;
  $('order-reason').value = p.suggestedOrder.reason;
  $('cards').replaceChildren(el('p', { class: 'muted' }, 'Sign an order to see the service\'s cards.'));
  $('coverage').replaceChildren();
  await Promise.all([showSummary(id), showNotes(id)]);
}

/** Anchor id of a mention: the note, the part and the offset the determination's evidence span names. */
const mentionId = (reference, part, start) => `mention-${reference.replace(/[^A-Za-z0-9-]/g, '-')}-${part.replace(/[^A-Za-z0-9]/g, '')}-${start}`;

/** The patient's notes with every mention the service finds, told apart by shape and words as well as colour. */
async function showNotes(id) {
  const { notes } = await getJson(`/demo/api/patients/${encodeURIComponent(id)}/notes`).catch(() => ({ notes: [] }));
  state.notes = notes;
  $('notes-panel').hidden = notes.length === 0;
  $('notes').replaceChildren(...notes.map((n) => {
    const body = el('div', { class: 'note-text' });
    let at = 0;
    // Mentions may overlap (one phrase, several facts): draw each stretch once, under its first mention.
    for (const m of [...n.mentions].sort((a, b) => a.plainStart - b.plainStart)) {
      if (m.plainStart < at) continue;
      body.append(text(n.text.slice(at, m.plainStart)));
      const qualified = !['affirmed', 'absent'].includes(m.mark);
      const badge = m.mark === 'affirmed' ? '+' : m.mark === 'absent' ? 'no' : '?';
      const others = n.mentions.filter((o) => o.plainStart === m.plainStart && o.plainEnd === m.plainEnd).map((o) => o.words);
      body.append(el('mark', {
        class: `mention ${qualified ? 'm-qualified' : `m-${m.mark}`}`,
        id: mentionId(n.reference, n.part, m.start),
        title: `${[...new Set(others)].join('; ')}: ${m.mark}`,
        'aria-label': `${n.text.slice(m.plainStart, m.plainEnd)}, ${m.mark}: ${[...new Set(others)].join('; ')}`,
      }, el('span', { class: 'badge', 'aria-hidden': 'true' }, badge), n.text.slice(m.plainStart, m.plainEnd)));
      at = m.plainEnd;
    }
    body.append(text(n.text.slice(at)));
    return el('article', { class: 'note', 'aria-label': `${n.label} ${n.date ?? ''}` },
      el('p', { class: 'note-title' }, `${n.label}${n.date ? `, ${n.date}` : ''} (${n.reference})`), body);
  }));
}

/**
 * Makes each quote a card shows from a note a link to its place in the note: the quote is the sentence the reader
 * gives for a mention, so it is found by reference and quote among the mentions the page drew.
 */
function linkQuotes(detail) {
  for (const li of detail.querySelectorAll('li')) {
    const code = [...li.querySelectorAll('code')].find((c) => /^(DocumentReference|DiagnosticReport)\//.test(c.textContent));
    const quote = /“(.*)”/.exec(li.firstChild?.textContent ?? '')?.[1];
    if (!code || quote === undefined) continue;
    const note = state.notes.find((n) => n.reference === code.textContent && n.mentions.some((m) => m.quote === quote));
    const mention = note?.mentions.find((m) => m.quote === quote);
    if (!note || !mention) continue;
    const target = mentionId(note.reference, note.part, mention.start);
    const first = li.firstChild;
    const link = el('a', { href: `#${target}`, class: 'quote-link', onclick: () => {
      const mark = document.getElementById(target);
      mark?.classList.add('flash');
      setTimeout(() => mark?.classList.remove('flash'), 2000);
    } }, `“${quote}”`);
    first.textContent = first.textContent.replace(`“${quote}”`, '');
    li.insertBefore(link, first);
  }
}

/** Answered items at any depth (answers may sit inside groups). */
const answeredItems = (items) => (items ?? []).flatMap((i) => [...(typeof i.answer?.[0]?.valueBoolean === 'boolean' ? [i] : []), ...answeredItems(i.item)]);

/** What the service will read, as an EHR chart would show it. */
async function showSummary(id) {
  const q = (type) => fhir(`${type}?patient=${encodeURIComponent(id)}&_count=100`).then(entries).catch(() => []);
  const [conditions, observations, imaging, procedures, meds, orders, answers] = await Promise.all(
    ['Condition', 'Observation', 'ImagingStudy', 'Procedure', 'MedicationRequest', 'ServiceRequest', 'QuestionnaireResponse'].map(q),
  );
  const vitals = observations
    .filter((o) => o.valueQuantity && /8310-5|8331-1|29463-7|38267-1/.test(JSON.stringify(o.code)))
    .sort((a, b) => String(b.effectiveDateTime).localeCompare(String(a.effectiveDateTime)))
    .slice(0, 6);
  const panel = (title, items) =>
    el('section', {}, el('h3', {}, title), items.length ? el('ul', {}, items.map((i) => el('li', {}, i))) : el('p', { class: 'muted' }, 'none'));
  $('summary').replaceChildren(
    panel('Problems', conditions.map((c) => `${codeText(c.code)} (${c.clinicalStatus?.coding?.[0]?.code ?? 'no status'}, ${day(c.onsetDateTime ?? c.recordedDate)})`)),
    panel('Recent vitals', vitals.map((o) => `${codeText(o.code)}: ${o.valueQuantity.value} ${o.valueQuantity.unit ?? o.valueQuantity.code ?? ''} (${day(o.effectiveDateTime)})`)),
    panel('Imaging', imaging.map((s) => `${s.description ?? (s.modality ?? []).map((m) => m.code).join('/')} (${day(s.started)})`)),
    panel('Therapy and medications', [
      ...procedures.map((p) => `${codeText(p.code)} (${p.status}, ${day(p.performedPeriod?.start ?? p.performedDateTime)}${p.performedPeriod?.end ? ` to ${day(p.performedPeriod.end)}` : ''})`),
      ...meds.map((m) => `${codeText(m.medicationCodeableConcept)} (${m.status}, since ${day(m.authoredOn)})`),
    ].slice(0, 12)),
    panel('Other orders', orders.map((o) => `${codeText(o.code)} (${o.status})`)),
    panel('Documented answers', answers.flatMap((r) => answeredItems(r.item).map((i) => `${i.linkId}: ${i.answer[0].valueBoolean ? 'yes' : 'no'} (${day(r.authored)})`))),
  );
}

/** The draft ServiceRequest the clinician is signing. */
function draftOrder() {
  const p = state.current;
  const code = $('order-code');
  const reason = $('order-reason');
  const order = {
    resourceType: 'ServiceRequest',
    id: `draft-${uuid().slice(0, 8)}`,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${p.id}` },
    code: { coding: [{ system: CPT, code: code.value, display: code.selectedOptions[0].textContent.split(' — ')[1] }] },
    authoredOn: new Date().toISOString(),
    requester: { reference: 'Practitioner/demo-clinician', display: 'Demo Clinician' },
  };
  if (reason.value) order.reasonCode = [{ coding: [{ system: ICD, code: reason.value, display: reason.selectedOptions[0].textContent.split(' — ')[1] }] }];
  if (['76390', '72159'].includes(code.value)) order.bodySite = [{ coding: [LUMBAR] }];
  return order;
}

/** Prefetch as an EHR fills it: each discovery template run on the FHIR server, first page as it comes. */
async function fulfilPrefetch(templates, context) {
  const prefetch = {};
  await Promise.all(
    Object.entries(templates ?? {}).map(async ([key, template]) => {
      const query = template.replace(/\{\{\s*context\.(\w+)\s*\}\}/g, (_m, name) => encodeURIComponent(context[name] ?? ''));
      const res = await fetch(`/fhir/${query}`, { headers: { accept: 'application/fhir+json' } });
      if (res.ok) prefetch[key] = await res.json();
      else if (res.status === 404) prefetch[key] = null;
    }),
  );
  return prefetch;
}

async function sign() {
  const hook = $('hook').value;
  const service = state.services.find((s) => s.hook === hook);
  const order = draftOrder();
  const context = {
    userId: 'Practitioner/demo-clinician',
    patientId: state.current.id,
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] },
    ...(hook === 'order-select' ? { selections: [`ServiceRequest/${order.id}`] } : {}),
  };
  const request = { hookInstance: uuid(), hook, fhirServer: `${location.origin}/fhir`, context };
  $('sign').disabled = true;
  $('status').textContent = 'Asking the service…';
  try {
    if (!$('no-prefetch').checked) request.prefetch = await fulfilPrefetch(service.prefetch, context);
    const started = performance.now();
    const response = await getJson(`/cds-services/${service.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    $('status').textContent = `Answered in ${Math.round(performance.now() - started)} ms${request.prefetch ? ' (with prefetch)' : ' (the service queried the FHIR server)'}.`;
    $('raw-request').textContent = JSON.stringify(request, null, 2);
    $('raw-response').textContent = JSON.stringify(response, null, 2);
    showCards(service, response);
    showCoverage(response.systemActions ?? response.extension?.systemActions ?? []);
  } catch (error) {
    $('status').textContent = `The service answered with an error: ${error.message}`;
    $('raw-response').textContent = JSON.stringify(error.body ?? {}, null, 2);
  } finally {
    $('sign').disabled = false;
  }
}

async function sendFeedback(service, item, note) {
  try {
    await fetch(`/cds-services/${service.id}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ feedback: [{ ...item, outcomeTimestamp: new Date().toISOString() }] }) });
    note.textContent = item.outcome === 'accepted' ? 'Accepted: feedback sent.' : 'Overridden: feedback sent.';
  } catch {
    note.textContent = 'Feedback could not be sent.';
  }
}

/** The questionnaire of what is missing, as a form: yes / no per item, then the answers are saved and the order signed again. */
async function showQuestionnaire(service, card, note) {
  const link = (card.links ?? []).find((l) => /still needed/.test(l.label));
  if (!link) return;
  // As a FHIR client: the same link opened in a browser is a page (the service negotiates on Accept).
  const q = await getJson(new URL(link.url).pathname, { headers: { accept: 'application/fhir+json' } });
  const form = el('form', { class: 'questionnaire', 'aria-labelledby': 'q-title' });
  form.append(el('h3', { id: 'q-title' }, q.title));
  for (const group of q.item ?? []) {
    const fieldset = el('fieldset', {}, el('legend', {}, group.text));
    for (const item of group.item ?? []) {
      const name = `q-${item.linkId}`;
      const help = (item.item ?? []).find((i) => i.type === 'display');
      fieldset.append(
        el('div', { class: 'question', role: 'radiogroup', 'aria-label': item.text },
          el('span', { class: 'question-text' }, item.text),
          el('label', {}, el('input', { type: 'radio', name, value: 'true' }), ' Yes'),
          el('label', {}, el('input', { type: 'radio', name, value: 'false' }), ' No'),
          help ? el('small', { class: 'help' }, help.text) : ''),
      );
    }
    form.append(fieldset);
  }
  const save = el('button', { type: 'submit', class: 'primary' }, 'Save answers and sign again');
  form.append(save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answers = [...form.querySelectorAll('input[type=radio]:checked')].map((input) => ({ linkId: input.name.slice(2), answer: [{ valueBoolean: input.value === 'true' }] }));
    if (!answers.length) {
      note.textContent = 'Answer at least one question first.';
      return;
    }
    save.disabled = true;
    const response = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: `${q.url}|${q.version}`,
      subject: { reference: `Patient/${state.current.id}` },
      authored: new Date().toISOString(),
      author: { reference: 'Practitioner/demo-clinician' },
      item: [{ linkId: 'answers', item: answers }],
    };
    await getJson('/fhir/QuestionnaireResponse', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(response) });
    note.textContent = `${answers.length} answer${answers.length === 1 ? '' : 's'} saved; signing again…`;
    await showSummary(state.current.id);
    await sign();
  });
  return form;
}

function showCards(service, response) {
  const cards = response.cards ?? [];
  if (!cards.length) {
    $('cards').replaceChildren(el('p', { class: 'muted' }, 'No card: this order is not one the policy covers.'));
    return;
  }
  $('cards').replaceChildren(...cards.map((card) => {
    const note = el('span', { class: 'feedback', role: 'status' });
    const actions = el('div', { class: 'actions' });
    for (const s of card.suggestions ?? []) {
      actions.append(el('button', { type: 'button', class: s.isRecommended ? 'recommended' : '', onclick: () => {
        void sendFeedback(service, { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: s.uuid }] }, note);
        // Apply the suggestion the way an EHR would: a replacement order goes into the order form.
        const created = (s.actions ?? []).find((a) => a.type === 'create')?.resource;
        if (created?.resourceType === 'ServiceRequest') {
          $('order-code').value = created.code.coding[0].code;
          $('status').textContent = `Order changed to ${created.code.coding[0].code}; sign again.`;
        } else if (created?.resourceType === 'QuestionnaireResponse') {
          article.querySelector('.questionnaire input')?.focus();
        }
      } }, s.label));
    }
    if (card.overrideReasons?.length) {
      const id = `override-${card.uuid}`;
      const select = el('select', { id }, card.overrideReasons.map((r) => el('option', { value: r.code }, r.display)));
      actions.append(el('label', { for: id }, 'Override reason'), select, el('button', { type: 'button', onclick: () => {
        const reason = card.overrideReasons.find((r) => r.code === select.value);
        void sendFeedback(service, { card: card.uuid, outcome: 'overridden', overrideReason: { reason: { system: reason.system, code: reason.code } } }, note);
      } }, 'Override'));
    }
    const detail = el('div', { class: 'detail' });
    detail.innerHTML = renderMarkdown(card.detail ?? '');
    linkQuotes(detail);
    const links = (card.links ?? []).map((l) => el('a', { href: l.url, target: '_blank', rel: 'noopener' }, l.label));
    const article = el('article', { class: `card ${card.indicator}`, 'aria-label': `${card.indicator} card` },
      el('span', { class: 'indicator' }, card.indicator),
      el('p', { class: 'summary-text' }, card.summary),
      detail,
      links.length ? el('p', { class: 'links' }, 'Links: ', ...links.flatMap((l, i) => (i ? [' · ', l] : [l]))) : '',
      el('p', { class: 'source' }, 'Source: ', card.source?.url ? el('a', { href: card.source.url, target: '_blank', rel: 'noopener' }, card.source.label) : card.source?.label ?? ''),
      actions.childNodes.length ? actions : '',
      note);
    void showQuestionnaire(service, card, note).then((form) => form && article.append(form));
    return article;
  }));
}

function showCoverage(actions) {
  const rows = [];
  for (const action of actions) {
    const ext = (action.resource?.extension ?? []).find((e) => e.url === CRD);
    if (!ext) continue;
    const value = (e) => e.valueCode ?? e.valueCanonical ?? e.valueString ?? e.valueDate ?? e.valueReference?.reference ?? e.valueReference?.display ?? e.valueCodeableConcept?.text ?? '';
    rows.push(el('h3', {}, `Coverage information recorded on ${action.resource.resourceType}/${action.resource.id}`));
    rows.push(el('table', {}, el('tbody', {}, ext.extension.map((e) => el('tr', {}, el('th', { scope: 'row' }, e.url), el('td', {}, value(e)))))));
  }
  $('coverage').replaceChildren(...(rows.length ? [el('div', { class: 'coverage' }, ...rows)] : []));
}

void init();
