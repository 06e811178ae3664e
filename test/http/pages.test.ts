import request from 'supertest';
import fc from 'fast-check';
import type { Questionnaire } from 'fhir/r4.js';
import { inlineHtml } from '../../src/policy/policy-page.js';
import { citedClauses } from '../../src/policy/policy-page.js';
import { clauseAnchor } from '../../src/policy/policy-text.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { hookRequest } from '../support/ehr.js';
import { condition, daysAgo, order } from '../support/clinical.js';
import { testApp } from '../support/service.js';

/**
 * Links a clinician clicks (issue #12): a browser (Accept: text/html) gets a readable page, a FHIR client still
 * gets FHIR JSON, and a plain-text client the policy text.
 */
const app = testApp();
const POLICY = '/policies/cohere-ma-mri-lumbar-spine';
const QUESTIONNAIRE = '/Questionnaire/cohere-ma-mri-lumbar-spine';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

function expectPage(res: request.Response): void {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toMatch(/script-src/);
  expect(res.text).not.toMatch(/<script|https?:\/\/(?!www\.|127\.0\.0\.1)[^"]*\.(js|css)/);
  expect(res.headers.vary).toContain('Accept');
}

describe('the policy link', () => {
  test('a browser gets the policy as a page: headings, lists and bold, not literal asterisks', async () => {
    const res = await request(app).get(POLICY).set('accept', BROWSER);
    expectPage(res);
    expect(res.text).toContain('<h2 id="indications">Indications</h2>');
    expect(res.text).toContain('considered appropriate if <strong>ANY</strong> of the following is <strong>TRUE</strong>');
    // No emphasis left as literal asterisks (the policy's own footnote marks, "*NOTE", stay as they are).
    expect(res.text).not.toMatch(/\*\*[^*\s][^*]*\*\*/);
  });

  test('every clause a criterion cites has its anchor on the page, and the index links to it', async () => {
    const res = await request(app).get(POLICY).set('accept', 'text/html');
    const clauses = citedClauses(loadPolicy());
    expect(clauses.map((c) => c.id)).toEqual(expect.arrayContaining(['ind.red-flag', 'ind.conservative-failure', 'non.spectroscopy']));
    for (const c of clauses) {
      const anchor = clauseAnchor(c.clause);
      expect(res.text).toContain(`id="${anchor ?? 'none'}"`);
    }
    expect(res.text).toContain('<a href="#indications-3">Indications ¶3</a>: symptoms persist after 4 weeks of conservative care');
    expect(res.text).toMatch(/<li id="indications-3">.*Symptoms persist despite at least 4 weeks of conservative management/s);
    expect(res.text).toMatch(/<li id="non-indications-4">For purposes of spectroscopy/);
  });

  test('the card\'s clause link lands on the clause it cites', async () => {
    const res = await request(app)
      .post('/cds-services/cohere-lumbar-mri')
      .send(hookRequest({ hook: 'order-sign', patientId: 'pat', draftOrders: [order('76390', { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] })], prefetch: { patient: { resourceType: 'Patient', id: 'pat' }, conditions: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: condition('M54.50', { onset: daysAgo(30) }) }] } } }));
    const link = (res.body.cards[0].links as { label: string; url: string }[]).find((l) => l.label.startsWith('Policy clause'));
    expect(link?.label).toBe('Policy clause Non-Indications ¶4: MR spectroscopy is not covered');
    const url = new URL(link?.url ?? 'http://x');
    const page = await request(app).get(url.pathname).set('accept', BROWSER);
    expect(page.text).toContain(`id="${url.hash.slice(1)}">For purposes of spectroscopy`);
  });

  test('a plain-text client, or one that accepts anything, still gets the text as it is', async () => {
    for (const accept of ['text/plain', '*/*', 'application/json']) {
      const res = await request(app).get(POLICY).set('accept', accept);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text).toContain('**ANY** of the following is **TRUE**');
    }
  });
});

describe('the questionnaire link', () => {
  test('a browser gets a form: every yes/no question as a radio pair, grouped, with its help text', async () => {
    const res = await request(app).get(QUESTIONNAIRE).set('accept', BROWSER);
    expectPage(res);
    expect(res.text).toContain('<fieldset><legend>Red flags</legend>');
    expect(res.text).toContain('<legend>Saddle anesthesia</legend>');
    expect(res.text).toContain('<input type="radio" name="rf.saddle-anesthesia" value="true"> Yes');
    expect(res.text).toContain('<input type="radio" name="rf.saddle-anesthesia" value="false"> No');
    expect(res.text).toContain('Supporting documentation: examination documenting saddle-area numbness.');
    // Relative to the page (/Questionnaire/<id>): the form goes back where the page came from.
    expect(res.text).toContain('<form method="get" action="cohere-ma-mri-lumbar-spine/response">');
  });

  test.each([['application/fhir+json'], ['application/json'], ['*/*'], ['']])('a FHIR client asking for %p still gets the Questionnaire as FHIR JSON', async (accept) => {
    const res = await request(app).get(QUESTIONNAIRE).set('accept', accept);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect((JSON.parse(res.text) as Questionnaire).resourceType).toBe('Questionnaire');
  });

  test('submitting the form makes a completed QuestionnaireResponse for this questionnaire, shown and downloadable', async () => {
    const res = await request(app).get(`${QUESTIONNAIRE}/response?rf.saddle-anesthesia=true&rf.night-pain-supine=false`).set('accept', BROWSER);
    expectPage(res);
    expect(res.text).toContain('Saddle anesthesia: <strong>yes</strong>');
    expect(res.text).toContain('Pain that worsens when supine at night: <strong>no</strong>');
    const download = /href="([^"]+)" download/.exec(res.text)?.[1]?.replace(/&amp;/g, '&') ?? '';
    const json = await request(app).get(`${QUESTIONNAIRE}/response${download}`).set('accept', BROWSER);
    expect(json.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(json.headers['content-disposition']).toContain('attachment');
    const qr = JSON.parse(json.text) as { resourceType: string; status: string; questionnaire: string; item: { linkId: string; item: { linkId: string; answer: unknown[] }[] }[]; subject?: unknown };
    expect(qr).toMatchObject({ resourceType: 'QuestionnaireResponse', status: 'completed' });
    expect(qr.questionnaire).toMatch(/\/Questionnaire\/cohere-ma-mri-lumbar-spine\|1\.1$/);
    expect(qr.item[0]?.item).toEqual([
      { linkId: 'rf.night-pain-supine', text: 'Pain that worsens when supine at night', answer: [{ valueBoolean: false }] },
      { linkId: 'rf.saddle-anesthesia', text: 'Saddle anesthesia', answer: [{ valueBoolean: true }] },
    ]);
    expect(qr.subject).toBeUndefined();
  });

  test('an answer that is neither true nor false is refused with an OperationOutcome naming the question', async () => {
    const res = await request(app).get(`${QUESTIONNAIRE}/response?rf.saddle-anesthesia=maybe`).set('accept', 'application/fhir+json');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['rf.saddle-anesthesia']);
  });

  test('a form sent with nothing answered is refused; a browser reads why on a page', async () => {
    const res = await request(app).get(`${QUESTIONNAIRE}/response`).set('accept', BROWSER);
    expect(res.status).toBe(400);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.text).toContain('no question was answered');
  });

  test('a questionnaire link that has expired tells a browser so, and a FHIR client with an OperationOutcome', async () => {
    const page = await request(app).get('/Questionnaire/cohere-ma-mri-lumbar-spine-v1-1-gone').set('accept', BROWSER);
    expect(page.status).toBe(404);
    expect(page.text).toContain('per-order questionnaires are kept for a day');
    const fhir = await request(app).get('/Questionnaire/cohere-ma-mri-lumbar-spine-v1-1-gone').set('accept', 'application/fhir+json');
    expect(fhir.status).toBe(404);
    expect(fhir.body.resourceType).toBe('OperationOutcome');
  });
});

describe('every value on a page is escaped', () => {
  const ALLOWED = /<\/?(strong|em)>|<a href="[^"<>]*" rel="noopener noreferrer">|<\/a>/g;
  test('policy text with markup or script renders as text', () => {
    expect(inlineHtml('<script>alert(1)</script> **bold** [x](javascript:void) <javascript:x>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt; <strong>bold</strong> x &lt;javascript:x&gt;');
  });
  test('whatever the text, the only tags in the result are the ones the renderer writes', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '&', '*', '[', ']', '(', ')', '\\', 'a', ' ', 'h', 't', 'p', ':', '/', 's') , maxLength: 60 }), (text) => {
        expect(inlineHtml(text).replace(ALLOWED, '')).not.toMatch(/[<>"]/);
      }),
      { numRuns: 3_000 },
    );
  });
});
