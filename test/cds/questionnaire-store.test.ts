import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Questionnaire } from 'fhir/r4.js';
import { QuestionnaireStore } from '../../src/cds/questionnaire.js';

const questionnaireNamed = (id: string): Questionnaire => ({ resourceType: 'Questionnaire', id, status: 'active' });

describe('the store behind the questionnaire links on documentation-needed cards', () => {
  it('a link keeps working until as many newer questionnaires as the store holds have been issued', () => {
    const store = new QuestionnaireStore(3);
    for (const id of ['first-order', 'second-order', 'third-order']) {
      store.put(id, questionnaireNamed(id));
    }
    expect(store.get('first-order', 'policy-only')?.id).toBe('first-order');
    store.put('fourth-order', questionnaireNamed('fourth-order'));
    expect(store.get('first-order', 'policy-only')).toBeUndefined();
    expect(['second-order', 'third-order', 'fourth-order'].map((id) => store.get(id, 'policy-only')?.id)).toEqual(['second-order', 'third-order', 'fourth-order']);
    expect(store.size).toBe(3);
  });

  it('a questionnaire nobody opens is never built, and one opened twice is built once', () => {
    const store = new QuestionnaireStore(10);
    let built = 0;
    store.put('pre-answered', () => {
      built += 1;
      return questionnaireNamed('pre-answered');
    });
    expect(built).toBe(0);
    expect(store.get('pre-answered', 'policy-only')?.id).toBe('pre-answered');
    expect(store.get('pre-answered', 'policy-only')?.id).toBe('pre-answered');
    expect(built).toBe(1);
  });

  it('the view for the EHR and the view for anyone else are built apart, each once', () => {
    const store = new QuestionnaireStore(10);
    const views: string[] = [];
    store.put('two-views', (view) => {
      views.push(view);
      return { ...questionnaireNamed('two-views'), title: view };
    });
    expect(store.get('two-views', 'policy-only')?.title).toBe('policy-only');
    expect(store.get('two-views', 'with-record')?.title).toBe('with-record');
    expect(store.get('two-views', 'policy-only')?.title).toBe('policy-only');
    expect(views).toEqual(['policy-only', 'with-record']);
  });

  it('a link opened the day after the order was signed finds nothing', () => {
    let now = 0;
    const store = new QuestionnaireStore(10, 86_400_000, () => now);
    store.put('yesterdays-order', questionnaireNamed('yesterdays-order'));
    now = 86_400_000;
    expect(store.get('yesterdays-order', 'policy-only')?.id).toBe('yesterdays-order');
    now = 86_400_001;
    expect(store.get('yesterdays-order', 'policy-only')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('putting the same id again replaces it without pushing another questionnaire out', () => {
    const store = new QuestionnaireStore(2);
    store.put('kept', questionnaireNamed('kept'));
    store.put('replaced', questionnaireNamed('old'));
    store.put('replaced', questionnaireNamed('new'));
    expect(store.get('kept', 'policy-only')?.id).toBe('kept');
    expect(store.get('replaced', 'policy-only')?.id).toBe('new');
  });

  it('over any sequence of signings and openings it keeps exactly the newest ids, like a first-in first-out list', () => {
    const operation = fc.oneof(
      fc.record({ put: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(operation, { maxLength: 120 }), (capacity, operations) => {
        const store = new QuestionnaireStore(capacity);
        const model: string[] = [];
        for (const op of operations) {
          if ('put' in op) {
            const id = `q${op.put}`;
            store.put(id, questionnaireNamed(id));
            if (!model.includes(id)) {
              model.push(id);
              if (model.length > capacity) {
                model.shift();
              }
            }
          } else {
            const id = `q${op.get}`;
            expect(store.get(id, 'policy-only')?.id).toBe(model.includes(id) ? id : undefined);
          }
        }
        expect(store.size).toBe(model.length);
      }),
      { numRuns: 500 },
    );
  });
});
