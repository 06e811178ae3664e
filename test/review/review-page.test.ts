import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../src/http/app.js';
import { silentLogger } from '../../src/logger.js';
import { csvField, csvTable } from '../../src/review/csv.js';
import { REVIEW_CSP, reviewPage } from '../../src/review/review-page.js';

const app = express();
app.use('/review', reviewPage(), errorHandler(silentLogger));

describe('the /review page is served by the service itself, for a closed network', () => {
  test('the page comes with a strict Content-Security-Policy: scripts and styles from here only, data from here only', async () => {
    const res = await request(app).get('/review');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(REVIEW_CSP);
    expect(REVIEW_CSP).toContain("script-src 'self'");
    expect(REVIEW_CSP).not.toContain('unsafe-inline');
    // No inline script and nothing from another origin.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('Chart.js, marked and DOMPurify are served from the installed packages at fixed routes', async () => {
    for (const [path, marker] of [
      ['/review/vendor/chart.umd.min.js', 'Chart.js v4.6.1'],
      ['/review/vendor/marked.esm.js', 'marked v18.2.1'],
      ['/review/vendor/purify.es.mjs', 'DOMPurify 3.5.0'],
    ] as const) {
      const res = await request(app).get(path);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({ path, status: 200, type: 'text/javascript; charset=utf-8' });
      expect(res.text.slice(0, 400)).toContain(marker);
    }
  });

  test('/review/ goes to /review, so the page’s relative links resolve; anything else is a 404', async () => {
    const slash = await request(app).get('/review/');
    expect(slash.status).toBe(301);
    expect(slash.headers.location).toBe('/review');
    expect((await request(app).get('/review/../package.json')).status).toBe(404);
    expect((await request(app).get('/review/vendor/chart.umd.min.js.map')).status).toBe(404);
  });
});

describe('CSV cells a spreadsheet would run are defused', () => {
  test('a formula-like text is prefixed with an apostrophe; commas, quotes and line breaks are quoted', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-1+2')).toBe("'-1+2");
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(csvTable(['a', 'b'], [[1, 'x\ny']])).toBe('a,b\r\n1,"x\ny"\r\n');
  });
});
