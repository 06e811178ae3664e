import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createDemo } from '../../src/demo/demo-app.js';
import { silentLogger } from '../../src/logger.js';
import { testStore } from '../support/test-store.js';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output');
let server: Server;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const demo = await createDemo(loadConfig({ CDS_AUTH: 'off', CDS_MIRROR_SYSTEM_ACTIONS: 'on' }), silentLogger, testStore());
  server = demo.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(base);
  mkdirSync(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
});

async function signFor(patient: RegExp): Promise<string> {
  // Choosing a patient clears the previous cards at once, so the summary waited for below is the new one.
  await page.getByRole('button', { name: patient }).click();
  await page.getByRole('button', { name: 'Sign order' }).click();
  const summary = page.locator('.card .summary-text').first();
  await summary.waitFor();
  return (await summary.textContent()) ?? '';
}

/** Waits until the locator's text satisfies the check (the page updates after the service answers). */
async function textOf(selector: string, contains: string): Promise<string> {
  const locator = page.locator(selector).first();
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want) ?? false, [selector, contains] as const, { timeout: 10_000 });
  return (await locator.textContent()) ?? '';
}

describe('a clinician signs lumbar MRI orders on the demo ordering page', () => {
  test('a fever in the vital signs: the card says the order meets criteria, in the info colour', async () => {
    expect(await signFor(/Adaeze Okafor/)).toBe('Lumbar MRI meets Medicare Advantage criteria: fever');
    expect(await page.locator('.card').first().getAttribute('class')).toContain('info');
    expect(await textOf('.coverage', 'covered')).toContain('satisfied');
    await page.screenshot({ path: join(OUTPUT, 'ordering-page-meets.png'), fullPage: true });
  });

  test('plain back pain: the card asks for documentation as a plain list, and an override sends feedback', async () => {
    expect(await signFor(/Piotr Kowalski/)).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    const card = page.locator('.card').first();
    expect(await card.getAttribute('class')).toContain('warning');
    expect(await card.locator('.detail ul').first().locator(':scope > li').count()).toBe(6);
    expect(await card.locator('.detail input[type=checkbox]').count()).toBe(0);
    expect(await textOf('.coverage', 'conditional')).toContain('auth-needed');
    await card.getByRole('button', { name: 'Override' }).click();
    expect(await textOf('.card .feedback', 'feedback')).toBe('Overridden: feedback sent.');
    await page.screenshot({ path: join(OUTPUT, 'ordering-page-documentation-needed.png'), fullPage: true });
  });

  test('the no-prefetch switch makes the service query the FHIR server, with the same decision', async () => {
    await page.getByLabel('No prefetch: the service queries the FHIR server itself').check();
    expect(await signFor(/Elise Fontaine/)).toBe('Lumbar MRI does not meet criteria: MR spectroscopy is not covered');
    expect(await textOf('#status', 'Answered')).toContain('the service queried the FHIR server');
  });

  test('documentation needed, answered in the questionnaire, then signed again: the order meets criteria', async () => {
    await page.getByLabel('No prefetch: the service queries the FHIR server itself').uncheck();
    expect(await signFor(/Siobhan Brennan/)).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    const question = page.getByRole('radiogroup', { name: 'Saddle anesthesia' });
    await question.waitFor();
    await question.getByLabel('Yes').check();
    await page.screenshot({ path: join(OUTPUT, 'ordering-page-questionnaire.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save answers and sign again' }).click();
    expect(await textOf('.card .summary-text', 'meets')).toBe('Lumbar MRI meets Medicare Advantage criteria: saddle anesthesia');
    expect(await textOf('.card .detail', 'attested')).toContain('attested by the clinician');
    expect(await textOf('#summary', 'rf.saddle-anesthesia')).toContain('rf.saddle-anesthesia: yes');
    await page.screenshot({ path: join(OUTPUT, 'ordering-page-after-answers.png'), fullPage: true });
  });

  test('MR spectroscopy: accepting the proposed alternate puts a lumbar MRI in the order form', async () => {
    expect(await signFor(/Elise Fontaine/)).toBe('Lumbar MRI does not meet criteria: MR spectroscopy is not covered');
    await page.getByRole('button', { name: /Order MRI lumbar spine without contrast \(CPT 72148\) instead/ }).click();
    expect(await page.locator('#order-code').inputValue()).toBe('72148');
    expect(await textOf('.card .feedback', 'feedback')).toBe('Accepted: feedback sent.');
  });

  test('the policy link opens as a readable page, styled under its strict CSP, the clause it points at highlighted', async () => {
    const tab = await browser.newPage();
    const violations: string[] = [];
    tab.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await tab.goto(`${base}/policies/cohere-ma-mri-lumbar-spine#indications-3`);
    expect(await tab.locator('#indications-3').textContent()).toContain('Symptoms persist despite at least 4 weeks of conservative management');
    expect(await tab.locator('h2#indications').count()).toBe(1);
    expect(await tab.evaluate(() => getComputedStyle(document.querySelector(':target') as Element).backgroundColor)).toBe('rgb(255, 243, 196)');
    expect(violations).toEqual([]);
    await tab.screenshot({ path: join(OUTPUT, 'policy-page.png') });
    await tab.close();
  });

  test('the questionnaire link opens as a form; answering it shows the QuestionnaireResponse', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${base}/Questionnaire/cohere-ma-mri-lumbar-spine`);
    await tab.getByRole('group', { name: 'Saddle anesthesia' }).getByLabel('Yes').check();
    await tab.screenshot({ path: join(OUTPUT, 'questionnaire-form.png'), fullPage: true });
    await tab.getByRole('button', { name: 'Make the QuestionnaireResponse' }).click();
    await tab.locator('pre').waitFor();
    expect(await tab.locator('li').first().textContent()).toBe('Saddle anesthesia: yes');
    expect(JSON.parse((await tab.locator('pre').textContent()) ?? '{}')).toMatchObject({ resourceType: 'QuestionnaireResponse', status: 'completed' });
    await tab.close();
  });

  test('a saddle numbness written only in an ED note: the note is shown with its mentions marked, and the quote on the card links to it', async () => {
    await page.getByRole('button', { name: /Marcus Whitfield/ }).click();
    await page.locator('#notes .note').first().waitFor();
    // Affirmed and absent mentions are told apart by a visible word or sign and by shape, not only by colour.
    const affirmed = page.locator('#notes mark.m-affirmed', { hasText: 'numbness in the saddle area' }).first();
    expect(await affirmed.locator('.badge').textContent()).toBe('+');
    const absent = page.locator('#notes mark.m-absent', { hasText: 'fevers' }).first();
    expect(await absent.locator('.badge').textContent()).toBe('no');
    expect(await absent.getAttribute('aria-label')).toContain('absent');
    await page.locator('#order-reason').selectOption('');
    await page.getByRole('button', { name: 'Sign order' }).click();
    expect(await textOf('.card .summary-text', 'meets')).toBe('Lumbar MRI meets Medicare Advantage criteria: saddle anesthesia');
    const quote = page.locator('.card .detail a.quote-link').first();
    expect(await quote.textContent()).toContain('numbness in the saddle area');
    const target = ((await quote.getAttribute('href')) ?? '').slice(1);
    await quote.click();
    expect(await page.locator(`[id="${target}"]`).textContent()).toContain('numbness in the saddle area');
    await page.screenshot({ path: join(OUTPUT, 'ordering-page-note-quote.png'), fullPage: true });
  });

  test('the page raised no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
