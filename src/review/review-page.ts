import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express from 'express';
import { ServiceError } from '../http/errors.js';
import { projectRoot } from '../project-root.js';

/**
 * The Content-Security-Policy of /review: scripts and styles from this service only (no inline script, no
 * CDN), data only from this origin's audit API, nothing framed, no form posting elsewhere. Chart.js sizes its
 * canvas through the CSSOM, which style-src does not govern.
 */
export const REVIEW_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  readonly file: string;
  readonly type: string;
}

const require = createRequire(import.meta.url);

/** A file of an installed package (a production dependency, so the image's `npm ci --omit=dev` has it). */
function packageFile(pkg: string, ...path: string[]): string {
  // The package's main entry sits in its dist (chart.js, dompurify) or lib (marked) folder beside the file wanted.
  return join(dirname(require.resolve(pkg)), ...path);
}

/**
 * Everything /review serves, by URL path: the page, its script and style (review/page/), and the kept libraries
 * it runs on, served from node_modules through fixed routes so the page works on a closed network.
 */
function assets(): ReadonlyMap<string, Asset> {
  const page = join(projectRoot(), 'review', 'page');
  const js = 'text/javascript; charset=utf-8';
  return new Map<string, Asset>([
    ['/', { file: join(page, 'index.html'), type: 'text/html; charset=utf-8' }],
    ['/review.js', { file: join(page, 'review.js'), type: js }],
    ['/review.css', { file: join(page, 'review.css'), type: 'text/css; charset=utf-8' }],
    ['/vendor/chart.umd.min.js', { file: packageFile('chart.js', 'chart.umd.min.js'), type: js }],
    ['/vendor/marked.esm.js', { file: packageFile('marked', 'marked.esm.js'), type: js }],
    ['/vendor/purify.es.mjs', { file: packageFile('dompurify', 'purify.es.mjs'), type: js }],
  ]);
}

/**
 * The reviewers' dashboard page (issue #14), mounted at /review next to the audit API:
 *   app.use('/review', reviewPage())
 * The page holds no data: it asks for the reviewer token and reads every figure from /audit with it. Every
 * file is read once here, so a missing one (an image built without the page or a library) stops the start
 * instead of a reviewer's visit.
 */
export function reviewPage(): express.Router {
  const files = new Map([...assets()].map(([path, a]) => {
    if (!existsSync(a.file)) {
      throw new Error(`the review page needs ${a.file}`);
    }
    return [path, { body: readFileSync(a.file), type: a.type }];
  }));
  const router = express.Router({ strict: true });
  router.get(/.*/, (req, res, next) => {
    // /review/ would resolve the page's relative links one level too deep.
    if (req.path === '/' && req.originalUrl.split('?')[0]?.endsWith('/')) {
      res.redirect(301, `${req.baseUrl}`);
      return;
    }
    const file = files.get(req.path);
    if (!file) {
      next(new ServiceError('NOT_FOUND'));
      return;
    }
    res.setHeader('Content-Security-Policy', REVIEW_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // The page and its libraries change only with a release; the figures (from /audit) are never cached.
    res.setHeader('Cache-Control', 'no-cache');
    res.type(file.type).send(file.body);
  });
  return router;
}
