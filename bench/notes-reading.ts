// Row (g) of `npm run bench`: reading about 1,000,000 characters of realistic notes in-process, p50 and p95 over
// repeated runs. Target: p50 ≤ 25 ms. Three measures of the same characters:
// - the reader alone over ~1,900 short notes (HTML → text → sections → sentences → mentions → assertions → care);
// - the reader alone over the same characters as one text (the per-note cost is the difference);
// - the full path as a request takes it (judged against the target): 100 DocumentReferences of ~10 KB each (SPEC
//   §8.1 reads at most 100 texts per request), base64 in their attachments, from the gathered record to the facts —
//   the record's index, the texts decoded and selected (noteTextsOf), each read once, and every fact of the policy
//   (the note rules and the care records from notes among them), as `determine` calls `extractFacts`.
// The notes are the public scenario notes (test/fixtures/notes) and a few longer ones written the way clinicians
// write, varied (ages, durations, dates, order) so no two texts of a run are the same string.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { extractFacts } from '../src/facts/extract-facts.js';
import { RecordIndex } from '../src/facts/record-index.js';
import { readNote, type Lexicon } from '../src/notes/index.js';
import { loadLexicon } from '../src/policy/load-lexicon.js';
import { loadPolicy, type LoadedPolicy } from '../src/policy/load-policy.js';
import { readProjectJson } from '../src/project-root.js';
import { recordOf } from '../test/support/record.js';
import { typicalPatient, withNotes, type BenchPatient } from './fixtures.js';

interface FixtureNote {
  readonly contentType: string;
  readonly text: string;
}

const LONG_NOTES: readonly FixtureNote[] = [
  {
    contentType: 'text/plain',
    text: `SPINE CENTER NEW PATIENT EVALUATION

Chief Complaint: low back pain radiating to the left leg

History of Present Illness:
{AGE} yo M truck driver with {N} weeks of low back pain that began after lifting a tire at work. The pain
radiates into the left buttock and posterior thigh, worse with sitting and driving, better lying supine.
He denies saddle anesthesia, bowel or bladder incontinence, fevers, chills or unintentional weight loss.
No night pain. He completed {N} weeks of physical therapy without relief and has taken ibuprofen 800 mg TID
for {M} weeks with minimal benefit. He tried a Medrol Dosepak in September. No prior spine surgery.

Past Medical History:
- Hypertension
- Type 2 diabetes mellitus, diet controlled
- Remote history of kidney stones
- Osteopenia on DEXA 2019

Past Surgical History:
- Appendectomy, age 14
- Left knee arthroscopy

Medications:
1. Lisinopril 20 mg daily
2. Ibuprofen 800 mg TID
3. Cyclobenzaprine 10 mg qhs prn

Allergies: NKDA

Family History: Mother with breast cancer at 62. Father with coronary artery disease. No family history
of spinal disorders.

Social History: Married, lives with his wife. Former smoker, quit 10 years ago. Drinks socially. Denies
IV drug use.

Review of Systems:
Constitutional: Denies fever, chills, night sweats.
GU: No urinary retention or incontinence.
Neuro: Positive for left leg numbness. Negative for weakness.
All other systems reviewed and negative.

Physical Exam:
Vitals: BP 142/86, HR 78, T 36.8 C, Wt 98 kg.
General: Well appearing, in mild distress when sitting.
Back: Tenderness over the left L5-S1 paraspinals. Lumbar flexion limited to 50 degrees.
Neuro: Strength 5/5 in bilateral lower extremities except EHL 4/5 on the left. Sensation decreased in the
left L5 dermatome. Reflexes 2+ and symmetric. Positive straight leg raise on the left at 40 degrees.
Negative on the right. Saddle sensation intact. Rectal tone not tested.

Assessment and Plan:
1. Lumbar radiculopathy, left L5, with EHL weakness, persisting despite more than {N} weeks of conservative
care. MRI lumbar spine without contrast ordered to evaluate for disc herniation with nerve root
compression.
2. Consider referral to spine surgery vs. epidural steroid injection depending on MRI findings.
3. Continue home exercise program; return precautions reviewed.

Patient Instructions:
Return to the emergency department for new weakness, saddle numbness, or loss of bladder control.
`,
  },
  {
    contentType: 'text/plain',
    text: `MRI LUMBAR SPINE WITHOUT CONTRAST

Indication: Low back pain with left radicular symptoms for {N} weeks, failed conservative therapy.
Technique: Multiplanar multisequence MRI of the lumbar spine without contrast.
Comparison: Lumbar radiographs dated 09/12/2026.

Findings:
Alignment is normal. Vertebral body heights are maintained. No suspicious marrow lesion. No fracture.
The conus medullaris terminates at L1 and is normal in signal.
L3-L4: Mild disc bulge without canal or foraminal stenosis.
L4-L5: Disc desiccation with a broad-based disc protrusion and mild facet arthropathy causing mild left
lateral recess narrowing. No nerve root compression.
L5-S1: Left paracentral disc extrusion contacting and posteriorly displacing the traversing left S1 nerve
root. Moderate left foraminal narrowing.

Impression:
1. Left paracentral disc extrusion at L5-S1 with compression of the traversing left S1 nerve root.
2. Multilevel degenerative disc disease, most pronounced at L4-L5.
3. No evidence of infection or malignancy. Metastatic disease is not suspected.
`,
  },
  {
    contentType: 'text/plain',
    text: `PHYSICAL THERAPY PROGRESS NOTE

Subjective: Pt reports low back pain 6/10, unchanged from last visit. She has attended {M} sessions since
{DATE}. Pain wakes her from sleep occasionally. Denies numbness or tingling; denies bowel/bladder changes.
Objective: Lumbar AROM flexion 60%, extension 40% with pain. SLR negative bilaterally. Strength 5/5 throughout.
Assessment: Slow progress with PT x{N} wks; minimal functional improvement. Fall risk low.
Plan: Continue PT 2x/week for 4 more weeks, progress HEP, recommend follow-up with PCP regarding imaging.
`,
  },
  {
    contentType: 'text/html',
    text: `<html><head><style>p { margin: 0 }</style></head><body>
<h2>Urgent Care Visit</h2>
<p><b>HPI:</b> {AGE} yo F with low back pain for {N} weeks after a fall on ice. History of osteoporosis on
alendronate. She denies fever &amp; chills. Taking acetaminophen 1 g TID for {M} weeks without relief.</p>
<p><b>PMH:</b></p><ul><li>Osteoporosis</li><li>Hypothyroidism</li><li>Breast cancer, s/p lumpectomy 2015</li></ul>
<p><b>Exam:</b> T 36.9&nbsp;C. Point tenderness over L1. Neuro intact; 5/5 strength; perianal sensation intact.</p>
<!-- template: urgent care v3 -->
<p><b>Assessment/Plan:</b> Possible osteoporotic compression fracture; cannot rule out pathologic fracture
given her history. MRI lumbar spine. Return if new weakness or urinary retention.</p>
</body></html>`,
  },
];

function vary(text: string, k: number): string {
  const month = ((k % 9) + 1).toString().padStart(2, '0');
  return text
    .replaceAll('{AGE}', String(40 + (k % 45)))
    .replaceAll('{N}', String(3 + (k % 9)))
    .replaceAll('{M}', String(2 + (k % 7)))
    .replaceAll('{DATE}', `${month}/${String(1 + (k % 27)).padStart(2, '0')}/2026`)
    .replace(/(\d+) yo/, `${30 + (k % 60)} yo`);
}

/** About `chars` characters of notes, as separate texts (only the text/plain ones when `plainOnly`). */
export function benchNotes(chars = 1_000_000, plainOnly = false): FixtureNote[] {
  const fixture = readProjectJson('test', 'fixtures', 'notes', 'public-notes.json') as { notes: FixtureNote[] };
  const pool = [...fixture.notes, ...LONG_NOTES, ...LONG_NOTES].filter((n) => !plainOnly || n.contentType === 'text/plain');
  const out: FixtureNote[] = [];
  let total = 0;
  for (let k = 0; total < chars; k++) {
    const note = pool[(k * 7) % pool.length] as FixtureNote;
    const text = vary(note.text, k);
    out.push({ contentType: note.contentType, text });
    total += text.length;
  }
  return out;
}

/**
 * About `chars` characters of the bench notes gathered into `count` documents of about the same size, as a
 * request's notes would be at most (SPEC §8.1: 100 texts). A document holds one media type: the plain notes joined
 * by blank lines, or the HTML ones one after another; each type gets its share of the documents. Row (f) takes 20
 * plain ones of about 60,000 characters in all.
 */
export function benchDocuments(count = 100, chars = 1_000_000, plainOnly = false): FixtureNote[] {
  const notes = benchNotes(chars, plainOnly);
  const total = notes.reduce((n, x) => n + x.text.length, 0);
  const types = [...new Set(notes.map((n) => n.contentType))];
  const docs: FixtureNote[] = [];
  types.forEach((contentType, ti) => {
    const mine = notes.filter((n) => n.contentType === contentType);
    const typeChars = mine.reduce((n, x) => n + x.text.length, 0);
    // the last type takes what is left, so the documents number exactly `count`
    const share = ti === types.length - 1 ? count - docs.length : Math.max(1, Math.round((count * typeChars) / total));
    const separator = contentType === 'text/html' ? '\n' : '\n\n';
    let parts: string[] = [];
    let done = 0;
    let made = 0;
    for (const n of mine) {
      parts.push(n.text);
      done += n.text.length;
      if (made < share - 1 && done >= ((made + 1) * typeChars) / share) {
        docs.push({ contentType, text: parts.join(separator) });
        parts = [];
        made++;
      }
    }
    docs.push({ contentType, text: parts.join(separator) });
  });
  return docs;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The full path of (g): texts in a gathered record to facts. */
export interface NotesToFactsResult {
  readonly chars: number;
  readonly texts: number;
  readonly runs: number;
  readonly p50: number;
  readonly p95: number;
  /** The same record without its notes, for scale. */
  readonly withoutNotesP50: number;
  /** Facts true from notes evidence in one run. */
  readonly noteEvidence: number;
}

export interface NotesReadingResult {
  readonly chars: number;
  readonly texts: number;
  readonly runs: number;
  /** ms to read all the texts once. */
  readonly p50: number;
  readonly p95: number;
  /** The same characters as one text (one huge note). */
  readonly oneTextP50: number;
  readonly oneTextP95: number;
  readonly mentions: number;
  readonly care: number;
}

/**
 * Measures reading ~1,000,000 characters of notes.
 *
 * @param runs - measured runs (after 5 warm-up runs)
 * @param lexicon - the lexicon (default: policy/notes-lexicon.json)
 */
export function measureNotesReading(runs = 30, lexicon: Lexicon = loadLexicon()): NotesReadingResult {
  const notes = benchNotes();
  const chars = notes.reduce((n, x) => n + x.text.length, 0);
  const noteDate = Date.UTC(2026, 10, 27);
  let mentions = 0;
  let care = 0;
  const readAll = (): void => {
    mentions = 0;
    care = 0;
    for (const n of notes) {
      const r = readNote(n.text, lexicon, { html: n.contentType === 'text/html', noteDate });
      mentions += r.mentions.length;
      care += r.care.length;
    }
  };
  const plainAll = notes.map((n) => n.text.replace(/<[^>]*>/g, ' ')).join('\n\n');
  const times = (f: () => void): number[] => {
    for (let w = 0; w < 5; w++) {
      f();
    }
    const t: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      f();
      t.push(performance.now() - t0);
    }
    return t.sort((a, b) => a - b);
  };
  const many = times(readAll);
  const one = times(() => readNote(plainAll, lexicon, { html: false, noteDate }));
  return {
    chars,
    texts: notes.length,
    runs,
    p50: percentile(many, 50),
    p95: percentile(many, 95),
    oneTextP50: percentile(one, 50),
    oneTextP95: percentile(one, 95),
    mentions,
    care,
  };
}

/**
 * Measures the full path of (g): the typical bench patient with 100 notes of ~10 KB each (about 1,000,000
 * characters), from the gathered record to every fact, as `determine` computes them. Each run starts from a fresh
 * record object (as a request does), so nothing is read from an earlier run's caches; building it is not timed.
 *
 * @param runs - measured runs (after 5 warm-up runs)
 * @param loaded - the policy (default: the service's)
 */
export function measureNotesToFacts(runs = 30, loaded: LoadedPolicy = loadPolicy()): NotesToFactsResult {
  const docs = benchDocuments();
  const now = Date.now();
  const base = typicalPatient();
  const patient: BenchPatient = withNotes(base, docs, now);
  let noteEvidence = 0;
  const once = (p: BenchPatient): number => {
    const record = recordOf(p.patient, p.resources);
    const t0 = performance.now();
    const index = new RecordIndex(record);
    const facts = extractFacts({ policy: loaded.policy, valueSets: loaded.valueSets, lexicon: loaded.lexicon, index, order: p.order, draftOrders: [p.order], now });
    const ms = performance.now() - t0;
    noteEvidence = 0;
    for (const f of facts.values()) {
      noteEvidence += f.evidence.filter((e) => e.note !== undefined).length;
    }
    return ms;
  };
  const times = (p: BenchPatient): number[] => {
    for (let w = 0; w < 5; w++) {
      once(p);
    }
    const t: number[] = [];
    for (let r = 0; r < runs; r++) {
      t.push(once(p));
    }
    return t.sort((a, b) => a - b);
  };
  const without = times(base);
  const full = times(patient);
  return {
    chars: docs.reduce((n, d) => n + d.text.length, 0),
    texts: docs.length,
    runs,
    p50: percentile(full, 50),
    p95: percentile(full, 95),
    withoutNotesP50: percentile(without, 50),
    noteEvidence,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = measureNotesReading(Number(process.env.BENCH_NOTES_RUNS ?? 30));
  console.log(
    `(g) notes reading: ${r.chars.toLocaleString('en-US')} characters in ${r.texts} notes, ${r.runs} runs: ` +
      `p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms (target p50 ≤ 25 ms); ` +
      `as one text: p50 ${r.oneTextP50.toFixed(1)} ms, p95 ${r.oneTextP95.toFixed(1)} ms; ` +
      `${r.mentions} mentions, ${r.care} care records per run`,
  );
  const f = measureNotesToFacts(Number(process.env.BENCH_NOTES_RUNS ?? 30));
  console.log(
    `(g) notes to facts: ${f.chars.toLocaleString('en-US')} characters in ${f.texts} DocumentReferences, ${f.runs} runs: ` +
      `p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms (target p50 ≤ 25 ms); ` +
      `the same record without notes p50 ${f.withoutNotesP50.toFixed(2)} ms; ${f.noteEvidence} note evidence items per run`,
  );
}
