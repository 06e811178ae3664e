// The README's screenshot of /review (docs/review-dashboard.png): the demo with its month of history, signed in,
// in Debian's Chromium. Run after `npm run build`: node --experimental-websocket scripts/review-screenshot.mjs
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/src/config.js';
import { createDemo } from '../dist/src/demo/demo-app.js';
import { silentLogger } from '../dist/src/logger.js';
import { createStore } from '../dist/src/store/create-store.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const token = randomBytes(24).toString('base64url');
const config = loadConfig({ CDS_AUTH: 'off', CDS_REVIEWER_TOKENS: token, PORT: '0' });
const store = await createStore(config.store, silentLogger, { inMemory: true });
const demo = await createDemo(config, silentLogger, { store });
const server = demo.app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  await page.goto(`http://127.0.0.1:${server.address().port}/review`);
  await page.getByLabel('Reviewer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(root, 'docs', 'review-dashboard.png') });
  await page.screenshot({ path: join(root, 'test-output', 'review-demo-full.png'), fullPage: true });
} finally {
  await browser.close();
  server.close();
  await store.close();
}
console.log(`docs/review-dashboard.png written (${demo.history?.invocations ?? 0} orders of history)`);
process.exit(0);
