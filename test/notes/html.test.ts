// SPEC §8.1: HTML notes become text; evidence offsets point into the HTML as stored.
import { htmlToText } from '../../src/notes/index.js';
import { flags, mentionOf, read } from './reader.js';

const text = (html: string): string => htmlToText(html).text;

describe('HTML to text', () => {
  test.each(['br', 'p', 'div', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'])('<%s> ends a line, opening or closing', (tag) => {
    expect(text(`a<${tag}>b`)).toMatch(/^a\n+b$/);
    expect(text(`a</${tag}>b`)).toMatch(/^a\n+b$/);
  });
  test('<br/> and <BR > end a line too', () => {
    expect(text('a<br/>b<BR >c')).toBe('a\nb\nc');
  });
  test('every other tag separates words like a space', () => {
    expect(text('saddle<b>numbness</b>')).toBe('saddle numbness ');
    expect(text('<span class="x">fever</span>')).toBe(' fever ');
  });
  test('comments are dropped', () => {
    expect(text('fe<!-- a -->ver')).toBe('fever');
    expect(text('fever<!-- never closed')).toBe('fever');
  });
  test('script and style contents are dropped', () => {
    expect(text('a<script>var fever = 1;</script>b<style>p { x: y }</style>c').replace(/\s+/g, ' ')).toBe('a b c');
    expect(text('a<SCRIPT>x</SCRIPT >b')).toBe('a  b');
  });
  test('character references are decoded: named, decimal, hex', () => {
    expect(text('&amp; &lt; &gt; &quot; &apos; &nbsp; &ndash; &deg; &#38; &#x26; &#128512;')).toBe(`& < > " '   – ° & & 😀`);
  });
  test('an unknown or broken reference is text', () => {
    expect(text('AT&T &bogus; &#; &')).toBe('AT&T &bogus; &#; &');
  });
  test("a '<' that opens no tag is text: 'BP < 140'", () => {
    expect(text('BP < 140 and 3<4')).toBe('BP < 140 and 3<4');
  });
  test('a tag never closed swallows the rest, as a browser would', () => {
    expect(text('fever <b class="x unclosed saddle numbness').trim()).toBe('fever');
  });
  test('deeply nested HTML is read without recursion', () => {
    const depth = 100_000;
    const html = `${'<div><span>'.repeat(depth)}saddle numbness${'</span></div>'.repeat(depth)}`;
    expect(read(html, { html: true }).mentions.map((m) => m.phrase)).toEqual(['saddle numbness']);
  });
});

describe('mentions in HTML notes', () => {
  const note = `<html><body>
<h2>Spine Clinic Note</h2>
<p><b>CC:</b> low back pain</p>
<p><b>HPI:</b> 61 yo woman with 3 weeks of low back pain. Over the past 4 days she has had <i>difficulty voiding</i> &amp; a weak urinary stream.</p>
<p><b>Exam:</b></p>
<ul><li>T 36.8 C, BP 134/80</li><li>Tender L4-L5 midline</li><li>Reflexes 2+ symmetric</li></ul>
<p><b>Plan:</b> MRI lumbar spine today &amp; urology referral.</p>
</body></html>`;

  test('a mention in an HTML note has offsets into the HTML as stored', () => {
    const r = read(note, { html: true });
    const m = mentionOf(note, 'rf.bladder-dysfunction', { html: true });
    expect(note.slice(m.start, m.end)).toBe('difficulty voiding');
    expect(r.text.slice(m.plainStart, m.plainEnd)).toBe('difficulty voiding');
    expect(flags(m)).toEqual([]);
  });
  test('a phrase split by inline tags is one mention whose original slice renders to the phrase', () => {
    const html = '<p>Denies <b>saddle</b> <i>anesthesia</i>.</p>';
    const m = mentionOf(html, 'rf.saddle-anesthesia', { html: true });
    expect(html.slice(m.start, m.end)).toBe('saddle</b> <i>anesthesia');
    expect(text(html.slice(m.start, m.end))).toBe('saddle   anesthesia');
    expect(flags(m)).toEqual(['negated']);
  });
  test('a phrase with a character reference maps back over the reference', () => {
    const html = '<p>bowel&#47;bladder incontinence</p>';
    const m = mentionOf(html, 'rf.bladder-dysfunction', { html: true });
    expect(html.slice(m.start, m.end)).toBe('bowel&#47;bladder incontinence');
  });
  test('list items are separate sentences: a denial in one does not reach the next', () => {
    const html = '<ul><li>Denies fever<li>Saddle numbness since Monday</ul>';
    expect(flags(mentionOf(html, 'rf.saddle-anesthesia', { html: true }))).toEqual([]);
  });
  test('paragraph headers open sections: <p><b>Family History:</b> lymphoma</p>', () => {
    expect(flags(mentionOf('<p><b>Family History:</b> lymphoma</p>', 'rf.cancer-history', { html: true }))).toEqual(['other']);
  });
  test('toOriginal maps plain offsets back to the HTML', () => {
    const html = '<p>a &amp; b</p>';
    const r = read(html, { html: true });
    const amp = r.text.indexOf('&');
    expect(html.slice(r.toOriginal(amp), r.toOriginalEnd(amp + 1))).toBe('&amp;');
  });
});
