/**
 * A Questionnaire as a page a clinician can read and fill in (issue #12: the card's questionnaire link showed raw
 * FHIR JSON). Each boolean item is a yes/no radio group with its help text, grouped as the questionnaire groups
 * them; submitting the form (a GET, no script) yields the QuestionnaireResponse, shown and offered as a download.
 * The service has no FHIR server of its own to store it in: the page says so, and what to do with it.
 */
import type { Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem } from 'fhir/r4.js';
import { escapeHtml, htmlPage } from '../html.js';
import { canonical } from './questionnaire.js';

function helpOf(item: QuestionnaireItem): string[] {
  return (item.item ?? []).filter((i) => i.type === 'display' && typeof i.text === 'string').map((i) => i.text ?? '');
}

function itemHtml(item: QuestionnaireItem): string {
  if (item.type === 'group') {
    return `<fieldset><legend>${escapeHtml(item.text ?? item.linkId)}</legend>\n${(item.item ?? []).map(itemHtml).join('\n')}\n</fieldset>`;
  }
  if (item.type === 'display') {
    return '';
  }
  if (item.type !== 'boolean') {
    return `<p>${escapeHtml(item.text ?? item.linkId)} <span class="meta">(answered in the EHR: this page asks only yes/no questions)</span></p>`;
  }
  const name = escapeHtml(item.linkId);
  const initial = item.initial?.find((i) => typeof i.valueBoolean === 'boolean')?.valueBoolean;
  const radio = (value: boolean, label: string): string =>
    `<label><input type="radio" name="${name}" value="${String(value)}"${initial === value ? ' checked' : ''}> ${label}</label>`;
  const help = helpOf(item).map((h) => `<p class="help">${escapeHtml(h)}</p>`).join('');
  return `<fieldset class="question"><legend>${escapeHtml(item.text ?? item.linkId)}</legend><div class="answers">${radio(true, 'Yes')}${radio(false, 'No')}</div>${help}</fieldset>`;
}

/**
 * The questionnaire as a fillable page.
 * @param q - the questionnaire
 * @param responseUrl - where the form is sent (GET) to become a QuestionnaireResponse
 */
export function questionnaireFormPage(q: Questionnaire, responseUrl: string): string {
  const body = [
    `<h1>${escapeHtml(q.title ?? q.name ?? q.id ?? 'Questionnaire')}</h1>`,
    q.description !== undefined ? `<p class="meta">${escapeHtml(q.description)}</p>` : '',
    `<p class="notice">Answer the questions that apply; any one that settles the decision is enough. Submitting makes a FHIR QuestionnaireResponse for you to keep in the patient's record: this page sends nothing to the EHR.</p>`,
    `<form method="get" action="${escapeHtml(responseUrl)}">`,
    ...(q.item ?? []).map(itemHtml),
    '<p><button type="submit">Make the QuestionnaireResponse</button></p>',
    '</form>',
    `<p class="meta">Canonical: <code>${escapeHtml(canonical(q))}</code></p>`,
  ];
  return htmlPage(q.title ?? 'Questionnaire', body.filter((x) => x !== '').join('\n'));
}

function booleanItems(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => (i.type === 'boolean' ? [i] : booleanItems(i.item)));
}

/** Answers read from a form: the response, or which field was wrong. */
export type FormAnswers = { readonly ok: true; readonly response: QuestionnaireResponse } | { readonly ok: false; readonly message: string; readonly field?: string };

function answered(items: readonly QuestionnaireItem[] | undefined, answers: ReadonlyMap<string, boolean>): QuestionnaireResponseItem[] {
  const out: QuestionnaireResponseItem[] = [];
  for (const i of items ?? []) {
    if (i.type === 'group') {
      const inner = answered(i.item, answers);
      if (inner.length > 0) {
        out.push({ linkId: i.linkId, ...(i.text !== undefined ? { text: i.text } : {}), item: inner });
      }
    } else if (i.type === 'boolean' && answers.has(i.linkId)) {
      out.push({ linkId: i.linkId, ...(i.text !== undefined ? { text: i.text } : {}), answer: [{ valueBoolean: answers.get(i.linkId) === true }] });
    }
  }
  return out;
}

/**
 * Reads the form's answers (one `linkId=true|false` per answered item; anything else in the query is ignored)
 * into a completed QuestionnaireResponse for the questionnaire. It names no patient: the page that made it is
 * served without the EHR's authentication and knows none.
 * @param q - the questionnaire
 * @param query - the request's query parameters
 * @param now - epoch ms, for `authored`
 */
export function responseFromForm(q: Questionnaire, query: Readonly<Record<string, unknown>>, now: number): FormAnswers {
  const answers = new Map<string, boolean>();
  for (const item of booleanItems(q.item)) {
    const value = query[item.linkId];
    if (value === undefined) {
      continue;
    }
    if (value !== 'true' && value !== 'false') {
      return { ok: false, message: `the answer to '${item.linkId.slice(0, 64)}' must be true or false`, field: item.linkId.slice(0, 64) };
    }
    answers.set(item.linkId, value === 'true');
  }
  if (answers.size === 0) {
    return { ok: false, message: 'no question was answered' };
  }
  return {
    ok: true,
    response: {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: canonical(q),
      authored: new Date(now).toISOString(),
      item: answered(q.item, answers),
    },
  };
}

/**
 * The page showing the response made from the form, with its download.
 * @param q - the questionnaire
 * @param response - the response
 * @param downloadUrl - the same response as a FHIR JSON download
 */
export function responsePage(q: Questionnaire, response: QuestionnaireResponse, downloadUrl: string): string {
  const lines = booleanItems(q.item).flatMap((i) => {
    const a = findAnswer(response.item, i.linkId);
    return a === undefined ? [] : [`<li>${escapeHtml(i.text ?? i.linkId)}: <strong>${a ? 'yes' : 'no'}</strong></li>`];
  });
  const body = [
    `<h1>QuestionnaireResponse: ${escapeHtml(q.title ?? q.id ?? '')}</h1>`,
    `<ul>\n${lines.join('\n')}\n</ul>`,
    `<p class="notice">This response is not stored anywhere yet. Add it to the patient's record in the EHR (as a completed QuestionnaireResponse with the patient as its subject): the service reads such answers the next time the order is signed (SPEC §2 Answers). It names no patient because this page is served without the EHR's authentication.</p>`,
    `<p><a href="${escapeHtml(downloadUrl)}" download="QuestionnaireResponse.json">Download the QuestionnaireResponse (FHIR JSON)</a></p>`,
    `<pre>${escapeHtml(JSON.stringify(response, null, 2))}</pre>`,
  ];
  return htmlPage('QuestionnaireResponse', body.join('\n'));
}

function findAnswer(items: readonly QuestionnaireResponseItem[] | undefined, linkId: string): boolean | undefined {
  for (const i of items ?? []) {
    if (i.linkId === linkId) {
      return i.answer?.[0]?.valueBoolean;
    }
    const inner = findAnswer(i.item, linkId);
    if (inner !== undefined) {
      return inner;
    }
  }
  return undefined;
}
