import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createDemo } from '../../src/demo/demo-app.js';
import { silentLogger } from '../../src/logger.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { MIX, dashboardMix, type Mix } from '../support/dashboard-mix.js';
import { startEhrIdentity } from '../support/ehr-identity.js';
import { TestDatabase } from '../support/store-engines.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUTPUT = join(ROOT, 'test-output');
const TOKEN = randomBytes(24).toString('base64url');
const DAY_MS = 86_400_000;

const database = new TestDatabase('pglite');
let store: RecordStore;
let mix: Mix;
let server: Server;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const cspViolations: string[] = [];

beforeAll(async () => {
  store = (await database.open()).store;
  // The mix's ten days end today, so the page's default period (the last 30 days) holds all of it.
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  mix = dashboardMix(today - (MIX.days - 1) * DAY_MS);
  await Promise.all(mix.records.map((r) => store.recordInvocation(r)));
  await store.recordFeedback(mix.feedback);
  const demo = await createDemo(loadConfig({ CDS_AUTH: 'off', CDS_REVIEWER_TOKENS: TOKEN }), silentLogger, store, { history: false });
  server = demo.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  mkdirSync(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  await store?.close();
  await database.dispose();
});

/** The cells of a table's row whose first cell is `first`, as the reader sees them. */
async function row(tableSelector: string, first: string | RegExp): Promise<string[]> {
  const rows = page.locator(`${tableSelector} tbody tr`).filter({ has: page.locator('th', { hasText: first }) });
  await rows.first().waitFor();
  return (await rows.first().locator('th, td').allTextContents()).map((t) => t.trim());
}

describe('a medical director reviews the pilot’s month at /review', () => {
  test('the page asks for the reviewer token; a CDS client’s JWT does not open it', async () => {
    await page.goto(`${base}/review`);
    await page.getByLabel('Reviewer token').waitFor();
    const ehr = await startEhrIdentity();
    try {
      await page.getByLabel('Reviewer token').fill(await ehr.sign(`${base}/audit/summary/order-codes`));
    } finally {
      await ehr.close();
    }
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => (document.getElementById('signin-error')?.textContent ?? '') !== '');
    expect(await page.locator('#signin-error').textContent()).toBe('That token is not a reviewer token.');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
  });

  test('signing in with the keyboard alone shows every figure, and the token is kept nowhere but in memory', async () => {
    await page.getByLabel('Reviewer token').focus();
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 20_000 });
    // Focus moves to the dashboard, so a keyboard or screen-reader user lands on it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('period-heading');
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
    expect(await context.cookies()).toEqual([]);
    expect(await page.locator('figure[data-rendered="true"]').count()).toBe(9);
    await page.screenshot({ path: join(OUTPUT, 'review-dashboard.png'), fullPage: true });
    await page.screenshot({ path: join(OUTPUT, 'review-dashboard-first-view.png') });
  });

  test('determinations per day: the table under the chart says 60 met criteria, 30 needed documentation, 10 did not', async () => {
    expect(await row('#table-days', 'Total')).toEqual(['Total', '60', '30', '10', '100']);
    expect(await page.locator('#table-days tbody tr').count()).toBe(MIX.days + 1);
    expect(await page.locator('#days-totals').textContent()).toBe('100 determinations — Meets criteria 60, Documentation needed 30, Does not meet criteria 10.');
  });

  test('where the deciding facts came from: codes 95 %, notes 40 %, answers 5 %, with the definition on the page', async () => {
    expect(await row('#table-sources', 'codes')).toEqual(['codes', '95', '95.0 %', '55', '30', '10']);
    expect(await row('#table-sources', 'notes')).toEqual(['notes', '40', '40.0 %', '10', '30', '0']);
    expect(await row('#table-sources', 'answers')).toEqual(['answers', '5', '5.0 %', '5', '0', '0']);
    expect(await page.locator('#sources-definition').textContent()).toMatch(/counts once for every source present/);
  });

  test('the questions asked most: 12 of 30 documentation-needed orders lacked 4 weeks of conservative care', async () => {
    expect(await row('#table-missing', 'Symptoms persist despite at least 4 weeks of conservative management')).toEqual([
      'Symptoms persist despite at least 4 weeks of conservative management',
      'fact.conservative-care-4wk',
      '12',
      '40.0 %',
    ]);
    expect(await page.locator('#table-missing caption').textContent()).toBe('Most frequently missing facts (of 30 documentation-needed determinations)');
  });

  test('feedback: 7 overrides, with their two reasons, and where they fell', async () => {
    expect(await row('#table-feedback', /Does not meet criteria/)).toEqual(['✗ Does not meet criteria', '10', '1', '10.0 %', '2', '20.0 %']);
    expect(await row('#table-feedback', /Documentation needed/)).toEqual(['? Documentation needed', '30', '6', '20.0 %', '5', '16.7 %']);
    expect(await page.locator('#table-reasons caption').textContent()).toBe('Override reasons (7 overrides)');
    expect(await row('#table-reasons', 'Urgent clinical need: imaging cannot wait')).toEqual(['Urgent clinical need: imaging cannot wait', 'urgent-clinical-need', '4', '0', '2', '2']);
    expect(await row('#table-reasons', 'Criteria are documented outside the coded record')).toEqual(['Criteria are documented outside the coded record', 'documented-elsewhere', '3', '0', '3', '0']);
    expect(await row('#table-criteria', 'Symptoms persist despite at least 4 weeks of conservative management')).toEqual([
      'Symptoms persist despite at least 4 weeks of conservative management',
      'missing',
      'fact.conservative-care-4wk',
      '12',
      '5',
      '41.7 %',
    ]);
  });

  test('operations: the three FHIR timeouts, hook durations per day, notes not read', async () => {
    expect(await row('#table-fhir', 'Condition')).toEqual(['Condition', 'timeout', '2']);
    expect(await row('#table-fhir', 'DocumentReference')).toEqual(['DocumentReference', 'timeout', '1']);
    expect(await page.locator('#fhir-caption').textContent()).toBe('3 of 100 calls had at least one FHIR failure.');
    expect(await page.locator('#table-durations tbody tr').count()).toBe(MIX.days);
    const firstDay = new Date(mix.since).toISOString().slice(0, 10);
    expect(await row('#table-durations', firstDay)).toEqual([firstDay, '10', '42.5 ms', '62.8 ms']);
    expect(await row('#table-notes', 'unsupported-content-type')).toEqual(['unsupported-content-type', '30', '30']);
    expect(await row('#table-notes', 'timeout')).toEqual(['timeout', '10', '5']);
  });

  test('a chart’s numbers download as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV: override reasons' }).click()]);
    const text = readFileSync((await download.path()) as string, 'utf8');
    expect(text.split('\r\n')).toEqual([
      'code,display,overrides,meets-criteria,documentation-needed,does-not-meet-criteria',
      'urgent-clinical-need,Urgent clinical need: imaging cannot wait,4,0,2,2',
      'documented-elsewhere,Criteria are documented outside the coded record,3,0,3,0',
      '',
    ]);
  });

  test('the recent determinations table, newest first, opens one: the card as the clinician saw it, evidence, coverage, feedback', async () => {
    const lines = page.locator('#recent tbody tr');
    expect(await lines.count()).toBe(25);
    expect((await lines.first().locator('td').nth(2).textContent())?.trim()).toBe('✗ Does not meet criteria');
    await page.getByLabel('Decision', { exact: true }).selectOption('documentation-needed');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#recent tbody tr')).every((r) => r.textContent?.includes('Documentation needed')));
    // The newest documentation-needed order of the mix.
    const newest = [...mix.records].reverse().find((r) => r.determinations[0]?.decision === 'documentation-needed');
    const open = page.locator(`button.open[data-id="${newest?.id}.0"]`);
    await open.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.locator('.card .summary').waitFor();
    expect(await dialog.locator('.card .summary').textContent()).toBe('Lumbar MRI: document 4 weeks of conservative care or a red flag');
    expect(await dialog.locator('.card .indicator').textContent()).toBe('Indicator: warning');
    // The detail's markdown rendered: its bold heading and its list of what is still needed.
    expect(await dialog.locator('.card .detail strong').first().textContent()).toBe('Documentation needed');
    expect(await dialog.locator('.card .detail ul').first().locator(':scope > li').count()).toBe(6);
    expect(await dialog.locator('blockquote.quote').first().textContent()).toContain('“low back pain x 10 days”');
    expect(await dialog.locator('dl.coverage dt').allTextContents()).toEqual(expect.arrayContaining(['covered', 'pa-needed', 'coverage-assertion-id']));
    await page.screenshot({ path: join(OUTPUT, 'review-determination.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id)).toBe(`${newest?.id}.0`);
  });

  test('the page ran under its Content-Security-Policy without a violation or a script error', () => {
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  test('signing out forgets the token: the figures go, and the next visitor must sign in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(await page.locator('#signin-error').textContent()).toBe('Signed out: the token is forgotten.');
    expect(await page.locator('#table-days table').count()).toBe(0);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      copyFileSync(join(OUTPUT, 'review-dashboard-first-view.png'), join(ROOT, 'docs', 'review-dashboard.png'));
    }
  });
});
