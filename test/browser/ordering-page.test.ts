import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createDemo } from '../../src/demo/demo-app.js';
import { silentLogger } from '../../src/logger.js';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output');
let server: Server;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const demo = await createDemo(loadConfig({ CDS_AUTH: 'off', CDS_MIRROR_SYSTEM_ACTIONS: 'on' }), silentLogger);
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

  test('plain back pain: the card asks for documentation as a checklist, and an override sends feedback', async () => {
    expect(await signFor(/Piotr Kowalski/)).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    const card = page.locator('.card').first();
    expect(await card.getAttribute('class')).toContain('warning');
    expect(await card.locator('li.task input[type=checkbox]').count()).toBe(6);
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

  test('the page raised no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
