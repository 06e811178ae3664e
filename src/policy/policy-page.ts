/**
 * The policy as a page for the clinician who clicks a card's policy link: the payer's text with its headings,
 * lists and emphasis, an anchor on every clause the criteria cite, and an index of those criteria.
 */
import { namedCriteria } from '../engine/criterion.js';
import { escapeHtml, htmlPage } from '../html.js';
import type { LoadedPolicy } from './load-policy.js';
import { clauseAnchor, clauseName, parsePolicyText, type ListItem, type PolicyBlock } from './policy-text.js';

const INLINE = /\\([\\`*_[\]()#+.!<>{}|-])|\*\*(.+?)\*\*|\*([^*\s](?:[^*]*?[^*\s])?)\*|\[([^\]]+)\]\(([^)\s]*)\)|<(https?:\/\/[^>\s]+)>/g;

/** Renders the text's inline markup; every character of the text is escaped. Links are kept only when http(s). */
export function inlineHtml(text: string): string {
  let out = '';
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    out += escapeHtml(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1] !== undefined) {
      out += escapeHtml(m[1]);
    } else if (m[2] !== undefined) {
      out += `<strong>${inlineHtml(m[2])}</strong>`;
    } else if (m[3] !== undefined) {
      out += `<em>${inlineHtml(m[3])}</em>`;
    } else if (m[4] !== undefined) {
      const url = m[5] ?? '';
      // The policy's own links point nowhere ("#"): the words stay, the link goes.
      out += /^https?:\/\//.test(url) ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${inlineHtml(m[4])}</a>` : inlineHtml(m[4]);
    } else if (m[6] !== undefined) {
      out += `<a href="${escapeHtml(m[6])}" rel="noopener noreferrer">${escapeHtml(m[6])}</a>`;
    }
  }
  return out + escapeHtml(text.slice(at));
}

function listHtml(items: readonly ListItem[]): string {
  const lis = items.map((i) => `<li id="${escapeHtml(i.anchor)}">${inlineHtml(i.text)}${i.children.length > 0 ? listHtml(i.children) : ''}</li>`);
  return `<ul>\n${lis.join('\n')}\n</ul>`;
}

function blockHtml(b: PolicyBlock): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level} id="${escapeHtml(b.anchor)}">${inlineHtml(b.text)}</h${b.level}>`;
    case 'paragraph':
      return `<p>${b.lines.map(inlineHtml).join('<br>\n')}</p>`;
    case 'list':
      return listHtml(b.items);
    case 'table':
      return `<table>\n${b.rows.map((r) => `<tr>${r.map((c) => `<td>${inlineHtml(c)}</td>`).join('')}</tr>`).join('\n')}\n</table>`;
  }
}

/** The named criteria of both trees with their clauses, in tree order. */
export function citedClauses(loaded: LoadedPolicy): { readonly id: string; readonly label: string; readonly clause: string }[] {
  return namedCriteria(loaded.policy.indications, loaded.policy.nonIndications).flatMap((c) =>
    c.id !== undefined && c.clause !== undefined ? [{ id: c.id, label: c.label ?? c.id, clause: c.clause }] : [],
  );
}

const pages = new WeakMap<LoadedPolicy, string>();

/**
 * The policy page: what the service applies, an index of the criteria it evaluates (each linking to its clause),
 * then the payer's text. Built once per loaded policy.
 * @param loaded - the policy and its text
 */
export function policyPage(loaded: LoadedPolicy): string {
  const built = pages.get(loaded);
  if (built !== undefined) {
    return built;
  }
  const p = loaded.policy;
  const doc = parsePolicyText(loaded.text);
  const index = citedClauses(loaded)
    .filter((c) => c.id.includes('.'))
    .map((c) => {
      const anchor = clauseAnchor(c.clause);
      const name = escapeHtml(clauseName(c.clause));
      return `<li>${anchor !== undefined && doc.anchors.has(anchor) ? `<a href="#${escapeHtml(anchor)}">${name}</a>` : name}: ${escapeHtml(c.label)} <span class="meta">(${escapeHtml(c.id)})</span></li>`;
    });
  const body = [
    `<p class="notice">The ${escapeHtml(p.publisher)} policy this service applies to ${escapeHtml(p.service)} orders, version ${escapeHtml(p.version)}. The payer's text below is the authority on what the criteria mean.</p>`,
    `<h2 id="criteria-evaluated">Criteria the service evaluates</h2>\n<ul>\n${index.join('\n')}\n</ul>`,
    ...doc.blocks.map(blockHtml),
  ].join('\n');
  const page = htmlPage(`${p.name} (version ${p.version})`, body);
  pages.set(loaded, page);
  return page;
}
