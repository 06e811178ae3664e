/**
 * The few HTML pages the service serves to people who click a card's links (the policy, a questionnaire): one
 * escaping function for every value, one page shell, and the Content-Security-Policy that goes with it. Pages
 * carry no script and load nothing from elsewhere; their one style sheet is inline and allowed by its hash.
 */
import { createHash } from 'node:crypto';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values (double- or single-quoted). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 52rem; padding: 1rem 1.25rem 3rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; line-height: 1.25; } h2 { font-size: 1.2rem; margin-top: 2rem; }
:target { background: #fff3c4; outline: 2px solid #e0b400; }
li { margin: .15rem 0; } table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
.meta { color: #555; font-size: .9rem; } .notice { background: #eef4fb; border-left: 4px solid #3b73b9; padding: .5rem .75rem; }
fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; } legend { font-weight: 600; padding: 0 .25rem; }
fieldset.question { border: 0; border-top: 1px solid #eee; border-radius: 0; margin: 0; padding: .5rem 0; }
fieldset.question legend { font-weight: 400; float: left; width: 100%; padding: 0; }
.answers { clear: left; display: flex; gap: 1.25rem; padding-top: .25rem; } .help { color: #555; font-size: .9rem; margin: .25rem 0 0; }
pre { background: #f6f6f6; overflow: auto; padding: .75rem; } button { font: inherit; padding: .4rem 1rem; }
`;

/** The Content-Security-Policy of every page: nothing but this inline style, forms posting only here. */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A whole page. The body is HTML already escaped by its builder; the title is escaped here.
 * @param title - the page title
 * @param body - the page content, as HTML
 */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
