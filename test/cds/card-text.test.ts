import fc from 'fast-check';
import { md } from '../../src/cds/render-card.js';

/** Escape every markdown character and fold whitespace: what md must do to any text from the record. */
const rewrite = (text: string): string => text.replace(/[\\`*_[\]<>|~]/g, '\\$&').replace(/\s+/g, ' ').trim();

describe('text from the record in a card', () => {
  it('a condition named with markdown characters is shown literally, not as markup', () => {
    expect(md('Low back pain [link](http://x) **bold** <img>')).toBe('Low back pain \\[link\\](http://x) \\*\\*bold\\*\\* \\<img\\>');
  });

  it('a display with line breaks and runs of spaces reads as one line', () => {
    expect(md('  Lumbar\nradiculopathy\t\tleft  ')).toBe('Lumbar radiculopathy left');
  });

  it('plain words come back unchanged', () => {
    expect(md('Sciatica, left side')).toBe('Sciatica, left side');
  });

  it('any text is escaped exactly as the full rewrite escapes it', () => {
    const whitespaceHeavy = fc.array(fc.constantFrom('a', ' ', '  ', '\n', '\t', '\u00a0', '*', '_', '\\', '`', 'é'), { maxLength: 20 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), whitespaceHeavy), (text) => {
        expect(md(text)).toBe(rewrite(text));
      }),
      { numRuns: 5_000 },
    );
  });
});
