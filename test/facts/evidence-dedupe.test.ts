// Evidence without repeats: the same note mention (reference, part, start) or the same coded record (reference,
// words) once, the first kept. The nested-map version must keep exactly what the key strings keep.
import fc from 'fast-check';
import { dedupe, type Evidence } from '../../src/facts/rules/rule-result.js';

/** The deduplication as first written: one key string per item. */
function byKeyStrings(evidence: readonly Evidence[]): readonly Evidence[] {
  if (evidence.length < 2) {
    return evidence;
  }
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const key = e.note ? `${e.reference}|${e.note.span.in}|${e.note.span.start}` : `${e.reference}|${e.what}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

const part = fc.constantFrom('content[0]', 'content[1]', 'conclusion', 'presentedForm[0]', 'a|b', 'content[0]|3');
const reference = fc.constantFrom('DocumentReference/n1', 'DocumentReference/n2', 'Condition/c1', 'x|content[0]', 'DocumentReference/n1|content[0]');
const noteEvidence = fc.record({ reference, part, start: fc.integer({ min: 0, max: 4 }) }).map(
  ({ reference: r, part: p, start }): Evidence => ({
    reference: r,
    what: 'saddle numbness',
    note: { assertion: 'affirmed', span: { in: p, start, end: start + 3 }, quote: 'saddle numbness', label: 'Progress note' },
  }),
);
const codedEvidence = fc.record({ reference, what: fc.oneof(part, fc.constantFrom('Low back pain', 'content[0]|3', '3')) }).map(({ reference: r, what }): Evidence => ({ reference: r, what }));

describe('evidence is listed once', () => {
  test('a fact citing the same sentence of a note twice, or the same coded record twice, lists it once, as the key strings did', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(noteEvidence, codedEvidence), { maxLength: 30 }), (list) => {
        expect(dedupe(list)).toEqual(byKeyStrings(list));
        const kept = dedupe(list);
        kept.forEach((e, i) => expect(e).toBe(byKeyStrings(list)[i]));
      }),
      { numRuns: 2000 * Number(process.env.PROPERTY_SCALE ?? 1) },
    );
  });

  test('a note mention and a coded record of the same note whose words read like the mention key are both kept', () => {
    const coded: Evidence = { reference: 'DocumentReference/n1', what: 'content[0]' };
    const mention: Evidence = {
      reference: 'DocumentReference/n1',
      what: 'fever',
      note: { assertion: 'affirmed', span: { in: 'content[0]', start: 4, end: 9 }, quote: 'fever', label: 'Progress note' },
    };
    expect(dedupe([coded, mention, coded, mention])).toEqual([coded, mention]);
  });
});
