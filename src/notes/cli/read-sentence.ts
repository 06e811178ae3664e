// `npm run --silent read-sentence` (SPEC §8.7): JSON lines in on standard input, exactly one JSON line out per
// input line, in order. This entry is the one place of src/notes that does I/O and reaches outside the folder (the
// lexicon loader of src/policy); the reader itself stays pure.
import { createInterface } from 'node:readline';
import { loadLexicon } from '../../policy/load-lexicon.js';
import { answerSentenceLine } from '../sentence-line.js';

const lexicon = loadLexicon();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
let out: string[] = [];
const flush = (): void => {
  if (out.length > 0) {
    process.stdout.write(`${out.join('\n')}\n`);
    out = [];
  }
};
lines.on('line', (line) => {
  out.push(answerSentenceLine(line, lexicon));
  if (out.length >= 256) {
    flush();
  }
});
lines.on('close', flush);
