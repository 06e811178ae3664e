import { determine } from '../../src/cds/determine.js';
import { draftServiceRequests, inScopeOrders } from '../../src/cds/scope.js';
import { RecordIndex } from '../../src/facts/record-index.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { problemsWith } from '../support/judge.js';
import { recordOf } from '../support/record.js';
import { loadScenarios } from '../support/scenarios.js';

const loaded = loadPolicy();
const now = new Date();
const scenarios = loadScenarios(now);

describe('the pure core decides every public scenario as its clinicians expect', () => {
  test.each(scenarios.map((s) => [`${s.id}: ${s.title}`, s] as const))('%s', (_name, scenario) => {
    const record = recordOf(scenario.patient, scenario.resources);
    const orders = draftServiceRequests(scenario.draftOrders.map((resource) => ({ resource })));
    const selections = scenario.hook === 'order-select' ? [`ServiceRequest/${scenario.draftOrders[0]?.id ?? ''}`] : undefined;
    const inScope = inScopeOrders(scenario.hook, orders, selections, loaded.policy, loaded.valueSets);
    if (scenario.expect.cards === 0) {
      expect(inScope).toHaveLength(0);
      return;
    }
    expect(inScope).toHaveLength(1);
    const index = new RecordIndex(record);
    const det = determine(loaded, record, index, inScope[0]!, orders, now.getTime());
    const view = { decision: det.outcome.decision, satisfied: det.satisfied, missing: det.outcome.missing, evidence: det.evidence };
    expect(problemsWith(scenario, view)).toEqual([]);
  });
});
