import { determine } from '../../src/cds/determine.js';
import { draftServiceRequests } from '../../src/cds/scope.js';
import { RecordIndex } from '../../src/facts/record-index.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { condition, decideFor, daysAgo, fact, procedure, temperature } from '../support/clinical.js';
import { recordOf } from '../support/record.js';
import { loadScenarios } from '../support/scenarios.js';

const backPain = condition('M54.50', { onset: daysAgo(90) });

describe('a source that could not be read (SPEC §2 Unreadable sources)', () => {
  test('when observations could not be read, fever is unknown, not false', () => {
    const f = fact('rf.fever', { resources: [backPain], unreadable: { Observation: 'timeout' } });
    expect(f.value).toBe('unknown');
    expect(f.unreadable).toContain('Observation');
  });
  test('a fever found before the failure still counts', () => {
    expect(fact('rf.fever', { resources: [temperature(39.1, daysAgo(2))], unreadable: { Observation: 'page-limit' } }).value).toBe('true');
  });
  test('when conditions could not be read, plain back pain with therapy never meets criteria', () => {
    const pt = procedure('97110', { start: daysAgo(50), end: daysAgo(8) });
    const det = decideFor({ resources: [backPain, pt], unreadable: { Condition: 'server-error' } });
    expect(det.outcome.decision).not.toBe('meets-criteria');
  });
  test('a fever with unreadable imaging needs documentation, since recent imaging is unknown, and says what was unchecked', () => {
    const det = decideFor({ resources: [backPain, temperature(39.1, daysAgo(2))], unreadable: { ImagingStudy: 'timeout' } });
    // Recent imaging is unknown, so the repeat-imaging non-indication is unknown: documentation needed, never a false meets.
    expect(det.outcome.decision).toBe('documentation-needed');
    expect(det.outcome.missing).toContain('fact.recent-advanced-imaging');
    expect(det.unchecked).toEqual([{ type: 'ImagingStudy', failure: 'timeout' }]);
  });
  test('a cancer history meets criteria when only observations failed', () => {
    const det = decideFor({ resources: [condition('Z85.46', { clinical: 'resolved' })], unreadable: { Observation: 'server-error' } });
    expect(det.outcome.decision).toBe('meets-criteria');
  });
  test('when nothing at all could be read the determination says so', () => {
    const all = { Patient: 'timeout', Coverage: 'timeout', Condition: 'timeout', Observation: 'timeout', ImagingStudy: 'timeout', Procedure: 'timeout', MedicationRequest: 'timeout', ServiceRequest: 'timeout', DiagnosticReport: 'timeout', QuestionnaireResponse: 'timeout' } as const;
    const det = decideFor({ unreadable: all });
    expect(det.noSourceReadable).toBe(true);
    expect(det.outcome.decision).toBe('documentation-needed');
  });
});

describe('the clinical notes are an added source (SPEC §8.1: an unread note makes no fact unknown)', () => {
  const loaded = loadPolicy();
  const now = new Date();

  test('when the notes query failed, the coded record is still read whole', () => {
    const index = new RecordIndex(recordOf({ resourceType: 'Patient', id: 'pat' }, [], { DocumentReference: 'timeout' }));
    expect(index.complete).toBe(true);
    expect(index.failure('DocumentReference')).toBe('timeout');
  });

  test.each(loadScenarios(now).filter((s) => s.expect.cards !== 0).map((s) => [`${s.id}: ${s.title}`, s] as const))(
    'a failed notes query makes no fact unknown; only denials in notes, which need the notes read whole, are set aside: %s',
    (_name, scenario) => {
      const orders = draftServiceRequests(scenario.draftOrders.map((resource) => ({ resource })));
      const decideWith = (failure?: 'server-error'): ReturnType<typeof determine> => {
        const record = recordOf(scenario.patient, scenario.resources, failure ? { DocumentReference: failure } : {});
        return determine(loaded, record, new RecordIndex(record), orders[0]!, orders, now.getTime());
      };
      const read = decideWith();
      const failed = decideWith('server-error');
      for (const [id, f] of read.facts) {
        const after = failed.facts.get(id);
        if (f.negating.length > 0) {
          // SPEC §8.4: an ask fact is false on a note's denial only when the notes were read whole; else it stays open.
          expect([id, after?.value]).toEqual([id, 'unknown']);
        } else {
          expect([id, after?.value, after?.evidence]).toEqual([id, f.value, f.evidence]);
        }
        expect(after?.unreadable).toEqual(f.unreadable);
      }
      expect(failed.unchecked).toEqual([{ type: 'DocumentReference', failure: 'server-error' }]);
    },
  );

  test('with every coded source unreadable and the notes read, nothing could be checked: coverage stays indeterminate', () => {
    const coded = { Patient: 'timeout', Coverage: 'timeout', Condition: 'timeout', Observation: 'timeout', ImagingStudy: 'timeout', Procedure: 'timeout', MedicationRequest: 'timeout', ServiceRequest: 'timeout', DiagnosticReport: 'timeout', QuestionnaireResponse: 'timeout' } as const;
    expect(decideFor({ unreadable: coded }).noSourceReadable).toBe(true);
  });

  test('with only the notes unreadable, the coded record was read: not a technical failure', () => {
    expect(decideFor({ unreadable: { DocumentReference: 'timeout' } }).noSourceReadable).toBe(false);
  });
});
