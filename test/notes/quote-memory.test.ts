// A quote outlives its reading (evidence is kept with a determination's questionnaire and in the record): it must
// hold its own characters, not a slice that keeps the whole note alive.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { quoteOf } from '../../src/notes/index.js';
import { read } from './reader.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('quotes and memory', () => {
  test('the sentence "Patient denies fever and chills today." quoted from a 1 MB note does not keep the note in memory', () => {
    const quotes: string[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) {
      // one-sentence and whitespace-collapsed quotes both
      const text = `Patient ${i} denies fever and chills today.\n${'Follow-up in clinic. '.repeat(50_000)}Denies  fever\n again.`;
      const r = read(text);
      for (const m of r.mentions) {
        quotes.push(quoteOf(r, m.plainStart, m.plainEnd));
      }
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(quotes).toContain('Patient 0 denies fever and chills today.');
    expect(quotes).toContain('Denies fever again.');
    // twenty 1 MB notes kept by their quotes would be 20 MB at least
    expect(grown).toBeLessThan(5 * 2 ** 20);
  });
});
