// HTML → plain text with a map back to the original (SPEC §8.1): <br>, <p>, <div>, <li>, <tr>, <h1>–<h6> end a line,
// every other tag separates words like a space, comments are dropped, character references decoded, <script> and
// <style> content dropped. One forward scan, no recursion and no regular expression over the input: linear in the
// length of the HTML however broken or deeply nested it is, and it never throws. Evidence spans (§8.4) are offsets
// into the HTML as stored, so every plain character remembers the original range it came from.

/** Plain text and, for each of its characters, the range of the original it came from. */
export interface PlainText {
  readonly text: string;
  /** Original start of plain character i. */
  readonly from: Int32Array;
  /** Original end (exclusive) of plain character i. */
  readonly to: Int32Array;
}

const NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ensp: ' ', emsp: ' ', thinsp: ' ', shy: '',
  zwnj: '', zwj: '', lrm: '', rlm: '', ndash: '–', mdash: '—', minus: '−', hyphen: '‐', hellip: '…', lsquo: '‘',
  rsquo: '’', sbquo: '‚', ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«', raquo: '»', lsaquo: '‹', rsaquo: '›',
  deg: '°', plusmn: '±', times: '×', divide: '÷', middot: '·', bull: '•', micro: 'µ', para: '¶', sect: '§',
  frac12: '½', frac14: '¼', frac34: '¾', sup1: '¹', sup2: '²', sup3: '³', copy: '©', reg: '®', trade: '™',
  le: '≤', ge: '≥', ne: '≠', asymp: '≈', equiv: '≡', larr: '←', rarr: '→', uarr: '↑', darr: '↓', harr: '↔',
  rArr: '⇒', lArr: '⇐', iexcl: '¡', iquest: '¿', cent: '¢', pound: '£', euro: '€', yen: '¥', dagger: '†',
  Dagger: '‡', permil: '‰', prime: '′', Prime: '″', alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', Delta: 'Δ',
  epsilon: 'ε', kappa: 'κ', lambda: 'λ', mu: 'μ', pi: 'π', sigma: 'σ', Sigma: 'Σ', omega: 'ω', Omega: 'Ω',
  aacute: 'á', Aacute: 'Á', agrave: 'à', acirc: 'â', auml: 'ä', Auml: 'Ä', atilde: 'ã', aring: 'å', aelig: 'æ',
  ccedil: 'ç', Ccedil: 'Ç', eacute: 'é', Eacute: 'É', egrave: 'è', ecirc: 'ê', euml: 'ë', iacute: 'í', igrave: 'ì',
  icirc: 'î', iuml: 'ï', ntilde: 'ñ', Ntilde: 'Ñ', oacute: 'ó', ograve: 'ò', ocirc: 'ô', ouml: 'ö', Ouml: 'Ö',
  otilde: 'õ', oslash: 'ø', uacute: 'ú', ugrave: 'ù', ucirc: 'û', uuml: 'ü', Uuml: 'Ü', yacute: 'ý', yuml: 'ÿ',
  szlig: 'ß', tab: '\t', newline: '\n',
};
/** References browsers decode even without the ';'. */
const LEGACY = ['amp', 'lt', 'gt', 'quot', 'nbsp'];

/** Tags that end a line (§8.1). */
function isLineTag(name: string): boolean {
  switch (name) {
    case 'br':
    case 'p':
    case 'div':
    case 'li':
    case 'tr':
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
      return true;
    default:
      return false;
  }
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57);
}

/**
 * Converts HTML to plain text.
 *
 * A closing block tag and `<br>` give one line break; an opening block tag (`<p>`, `<div>`, `<li>`, `<tr>`,
 * `<h1>`–`<h6>`) gives two, so that a block begins a new sentence even when the previous one was never closed
 * (`<li>a<li>b`): in HTML a new block is never the wrapped continuation of the one before.
 *
 * @param html - the HTML as stored
 * @returns the text and its offset map
 */
export function htmlToText(html: string): PlainText {
  const n = html.length;
  const from = new Int32Array(n + 2);
  const to = new Int32Array(n + 2);
  const parts: string[] = [];
  let m = 0;
  const emit = (s: string, a: number, b: number): void => {
    parts.push(s);
    for (let k = 0; k < s.length; k++) {
      from[m] = a;
      to[m] = b;
      m++;
    }
  };
  const copy = (a: number, b: number): void => {
    if (b <= a) {
      return;
    }
    parts.push(html.slice(a, b));
    for (let k = a; k < b; k++) {
      from[m] = k;
      to[m] = k + 1;
      m++;
    }
  };
  /** Index after the '>' that closes a tag (the first one: attribute values with '>' are not clinical text). */
  const tagEnd = (p: number): number => {
    const close = html.indexOf('>', p);
    return close < 0 ? n : close + 1;
  };

  let run = 0;
  let i = 0;
  while (i < n) {
    const c = html.charCodeAt(i);
    if (c === 60) {
      // '<'
      const c1 = html.charCodeAt(i + 1);
      if (c1 === 33 && html.startsWith('--', i + 2)) {
        copy(run, i);
        const close = html.indexOf('-->', i + 4);
        i = close < 0 ? n : close + 3;
        run = i;
        continue;
      }
      if (c1 === 33 || c1 === 63) {
        // <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>: not text
        copy(run, i);
        const close = html.indexOf('>', i + 2);
        i = close < 0 ? n : close + 1;
        run = i;
        continue;
      }
      const closing = c1 === 47;
      const nameStart = closing ? i + 2 : i + 1;
      if (!isAlpha(html.charCodeAt(nameStart))) {
        i++; // a '<' that opens no tag is text ("BP < 140")
        continue;
      }
      copy(run, i);
      let p = nameStart;
      while (p < n && isAlnum(html.charCodeAt(p))) {
        p++;
      }
      const name = html.slice(nameStart, p).toLowerCase();
      const end = tagEnd(p);
      if (isLineTag(name)) {
        emit(!closing && name !== 'br' ? '\n\n' : '\n', i, end);
      } else {
        emit(' ', i, end);
      }
      i = end;
      if (!closing && (name === 'script' || name === 'style')) {
        // raw text: skip to its closing tag
        const close = indexOfCaseless(html, `</${name}`, i);
        i = close < 0 ? n : tagEnd(close + name.length + 2);
        if (close >= 0) {
          emit(' ', close, i);
        }
      }
      run = i;
      continue;
    }
    if (c === 38) {
      // '&'
      const ref = reference(html, i);
      if (ref !== null) {
        copy(run, i);
        emit(ref.text, i, ref.end);
        i = ref.end;
        run = i;
        continue;
      }
    }
    i++;
  }
  copy(run, n);
  return { text: parts.join(''), from: from.subarray(0, m), to: to.subarray(0, m) };
}

function indexOfCaseless(s: string, needle: string, from: number): number {
  const first = needle.charCodeAt(0);
  for (let p = s.indexOf(String.fromCharCode(first), from); p >= 0; p = s.indexOf(String.fromCharCode(first), p + 1)) {
    if (s.slice(p, p + needle.length).toLowerCase() === needle) {
      return p;
    }
  }
  return -1;
}

/** A character reference at `i` ('&'), decoded, or null when it is a literal '&'. */
function reference(s: string, i: number): { text: string; end: number } | null {
  const n = s.length;
  if (s.charCodeAt(i + 1) === 35) {
    // &#…; / &#x…;
    const hex = s.charCodeAt(i + 2) === 120 || s.charCodeAt(i + 2) === 88;
    let p = hex ? i + 3 : i + 2;
    const d0 = p;
    let v = 0;
    while (p < n && p - d0 < 8) {
      const c = s.charCodeAt(p);
      const d = c >= 48 && c <= 57 ? c - 48 : hex && c >= 97 && c <= 102 ? c - 87 : hex && c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) {
        break;
      }
      v = v * (hex ? 16 : 10) + d;
      p++;
    }
    if (p === d0) {
      return null;
    }
    if (s.charCodeAt(p) === 59) {
      p++;
    }
    const ok = v > 0 && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff);
    return { text: ok ? String.fromCodePoint(v) : '\uFFFD', end: p };
  }
  let p = i + 1;
  while (p < n && p - i <= 32 && isAlnum(s.charCodeAt(p))) {
    p++;
  }
  if (p === i + 1) {
    return null;
  }
  const name = s.slice(i + 1, p);
  if (s.charCodeAt(p) === 59) {
    return Object.hasOwn(NAMED, name) ? { text: NAMED[name] ?? '', end: p + 1 } : null;
  }
  // legacy references without ';' ("&amp ", "&nbsp ")
  return LEGACY.includes(name) ? { text: NAMED[name] ?? '', end: p } : null;
}
