/**
 * The policy text as a document a person can read and a card can point into: headings, paragraphs, lists and
 * tables, with an anchor on every heading and every list item. A criterion's `clause` ("Indications ¶3: …") names
 * its anchor (`indications-3`: the third top-level item under the heading "Indications"), so a card can link to
 * the very clause it applied. Pure: text in, blocks out; the HTML is written elsewhere.
 */

export interface ListItem {
  /** The item's text, inline markup (`**bold**`, `[label](url)`, `<url>`, backslash escapes) unrendered. */
  readonly text: string;
  /** "indications-3" or "indications-1-2". */
  readonly anchor: string;
  readonly children: ListItem[];
}

export type PolicyBlock =
  | { readonly kind: 'heading'; readonly level: 1 | 2; readonly text: string; readonly anchor: string }
  | { readonly kind: 'paragraph'; readonly lines: readonly string[] }
  | { readonly kind: 'list'; readonly items: ListItem[] }
  | { readonly kind: 'table'; readonly rows: readonly (readonly string[])[] };

export interface PolicyDocument {
  readonly blocks: readonly PolicyBlock[];
  /** Every anchor the document has. */
  readonly anchors: ReadonlySet<string>;
}

/** "Non-Indications" → "non-indications"; accents dropped, anything not a letter or digit becomes a dash. */
export function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The anchor a criterion's clause names: "Indications ¶3: symptoms …" → "indications-3"; "Non-Indications: …" →
 * "non-indications". Undefined for a clause with no section name.
 * @param clause - the criterion's `clause` from the policy data
 */
export function clauseAnchor(clause: string): string | undefined {
  const head = clause.split(':')[0] ?? '';
  const numbered = /^(.*?)\s*¶\s*(\d+)\s*$/.exec(head);
  const anchor = numbered ? `${slug(numbered[1] ?? '')}-${numbered[2] ?? ''}` : slug(head);
  return anchor === '' || anchor.startsWith('-') ? undefined : anchor;
}

/** The short name of a clause, for a link label: "Indications ¶3". */
export function clauseName(clause: string): string {
  return (clause.split(':')[0] ?? clause).trim();
}

const LIST_ITEM = /^(\s*)-\s+(.*)$/;

/**
 * A heading is a short line standing alone between blank lines, that does not read as a sentence, a label with
 * a value ("Version: 1.1"), a table row or a numbered reference.
 */
function isHeading(line: string, before: string | undefined, after: string | undefined): boolean {
  const t = line.trim();
  return (
    (before === undefined || before.trim() === '') &&
    (after === undefined || after.trim() === '') &&
    t.length > 0 &&
    t.length <= 60 &&
    !line.includes('\t') &&
    !/[.,;!?]$/.test(t) &&
    !/:\s+\S/.test(t) &&
    !/^\d/.test(t) &&
    !/^[*[<]/.test(t)
  );
}

/**
 * Reads the policy text (SPEC's policy file: plain text with a few markdown habits).
 * @param text - the policy text
 */
export function parsePolicyText(text: string): PolicyDocument {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: PolicyBlock[] = [];
  const anchors = new Set<string>();
  const unique = (base: string): string => {
    let anchor = base || 'section';
    for (let n = 2; anchors.has(anchor); n++) {
      anchor = `${base}-${n}`;
    }
    anchors.add(anchor);
    return anchor;
  };
  let section = unique('top');
  let topItems = 0;
  let lastTop: ListItem | undefined;
  let paragraph: string[] = [];
  let table: string[][] = [];
  let list: ListItem[] | undefined;
  let sawHeading = false;

  const flush = (): void => {
    if (paragraph.length > 0) {
      blocks.push({ kind: 'paragraph', lines: paragraph });
      paragraph = [];
    }
    if (table.length > 0) {
      blocks.push({ kind: 'table', rows: table });
      table = [];
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      flush();
      // A list runs on over blank lines (the policy's indications do); anything else ends it.
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      if (!list) {
        list = [];
        blocks.push({ kind: 'list', items: list });
      }
      const nested = (item[1] ?? '').length > 0 && lastTop !== undefined;
      if (nested && lastTop) {
        const child: ListItem = { text: item[2] ?? '', anchor: unique(`${lastTop.anchor}-${lastTop.children.length + 1}`), children: [] };
        lastTop.children.push(child);
      } else {
        topItems += 1;
        lastTop = { text: item[2] ?? '', anchor: unique(`${section}-${topItems}`), children: [] };
        list.push(lastTop);
      }
      continue;
    }
    list = undefined;
    // The first line of the text is its title, however long.
    if ((blocks.length === 0 && paragraph.length === 0) || isHeading(line, lines[i - 1], lines[i + 1])) {
      flush();
      const title = line.trim().replace(/:$/, '');
      section = unique(slug(title));
      topItems = 0;
      lastTop = undefined;
      blocks.push({ kind: 'heading', level: sawHeading ? 2 : 1, text: title, anchor: section });
      sawHeading = true;
      continue;
    }
    if (line.includes('\t')) {
      if (paragraph.length > 0) {
        flush();
      }
      table.push(line.split(/\t+/).map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    if (table.length > 0) {
      flush();
    }
    paragraph.push(line.trim());
  }
  flush();
  return { blocks, anchors };
}
