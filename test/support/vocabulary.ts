import { loadCardTemplates } from '../../src/cds/card-templates.js';
import { loadPolicy } from '../../src/policy/load-policy.js';
import { reviewVocabulary, type ReviewVocabulary } from '../../src/review/vocabulary.js';

/** The words the service itself gives the dashboard: the project's policy and card templates. */
export function projectVocabulary(): ReviewVocabulary {
  return reviewVocabulary(loadPolicy().policy, loadCardTemplates().overrideReasons);
}
