// A small renderer for the markdown subset the cards use (GitHub-flavoured: paragraphs, bold, code spans,
// links, nested lists, backslash escapes). Everything is HTML-escaped first; links must be http(s).

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

function inline(text) {
  const literals = [];
  // Backslash escapes become placeholders so that the characters they protect are not read as markup.
  let out = text.replace(/\\([\\`*_[\]<>|~(){}#+!.-])/g, (_m, c) => `\u0000${literals.push(c) - 1}\u0000`);
  out = escapeHtml(out);
  out = out.replace(/`([^`]+)`/g, (_m, code) => `<code>${code}</code>`);
  out = out.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  out = out.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, (_m, label, url) => `<a href="${url}" target="_blank" rel="noopener">${label}</a>`);
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i) => escapeHtml(literals[Number(i)]));
}

/** Renders card markdown as HTML. */
export function renderMarkdown(markdown) {
  const html = [];
  const stack = []; // open <ul> indents
  let paragraph = [];
  const flushParagraph = () => {
    if (paragraph.length) {
      html.push(`<p>${inline(paragraph.join(' '))}</p>`);
      paragraph = [];
    }
  };
  const closeLists = (depth) => {
    while (stack.length > depth) {
      stack.pop();
      html.push('</li></ul>');
    }
  };
  for (const line of markdown.split('\n')) {
    const item = /^(\s*)- (.*)$/.exec(line);
    if (item) {
      flushParagraph();
      const depth = Math.floor(item[1].length / 2) + 1;
      if (depth > stack.length) {
        while (stack.length < depth) {
          stack.push(depth);
          html.push('<ul><li>');
        }
      } else {
        closeLists(depth);
        html.push('</li><li>');
      }
      html.push(inline(item[2]));
    } else if (line.trim() === '') {
      flushParagraph();
      closeLists(0);
    } else {
      closeLists(0);
      paragraph.push(line.trim());
    }
  }
  flushParagraph();
  closeLists(0);
  return html.join('');
}
