import { randomUUID } from 'node:crypto';
import type { Questionnaire, QuestionnaireResponse, QuestionnaireResponseItem, ServiceRequest } from 'fhir/r4.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { pruneEmpty } from '../crd/coverage-information.js';
import type { Suggestion } from './cds-types.js';
import type { Determination } from './determine.js';
import { canonical } from './questionnaire.js';

/** A QuestionnaireResponse for the clinician to complete: the questionnaire's items, not yet answered. */
function responseFor(q: Questionnaire, patientId: string, receivedAt: number): QuestionnaireResponse {
  const items = (q.item ?? []).map(
    (group): QuestionnaireResponseItem => ({
      linkId: group.linkId,
      ...(group.text !== undefined ? { text: group.text } : {}),
      item: (group.item ?? []).map((i) => ({ linkId: i.linkId, ...(i.text !== undefined ? { text: i.text } : {}) })),
    }),
  );
  return {
    resourceType: 'QuestionnaireResponse',
    id: randomUUID(),
    status: 'in-progress',
    questionnaire: canonical(q),
    subject: { reference: `Patient/${patientId}` },
    authored: new Date(receivedAt).toISOString(),
    item: items,
  };
}

/**
 * Suggestions that let the clinician act on the card: complete the questionnaire of what is missing, or,
 * for an order that does not meet criteria and has an alternate in the policy, replace it (delete, then
 * create the alternate: Da Vinci CRD "propose alternate request").
 * @param det - the determination
 * @param questionnaire - the per-determination questionnaire, when documentation is needed
 * @param patientId - the patient
 * @param receivedAt - epoch ms of the request
 */
export function suggestionsFor(det: Determination, questionnaire: Questionnaire | undefined, patientId: string, receivedAt: number, loaded: LoadedPolicy): Suggestion[] {
  const { policy, valueSets } = loaded;
  const suggestions: Suggestion[] = [];
  if (det.outcome.decision === 'documentation-needed' && questionnaire) {
    suggestions.push({
      label: 'Document the missing criteria (questionnaire)',
      uuid: randomUUID(),
      isRecommended: true,
      actions: [
        {
          type: 'create',
          description: `Start a response to the ${policy.service} documentation questionnaire (${det.outcome.missing.length} question${det.outcome.missing.length === 1 ? '' : 's'})`,
          resource: responseFor(questionnaire, patientId, receivedAt),
        },
      ],
    });
  }
  const alternate = policy.alternate;
  if (det.outcome.decision === 'does-not-meet-criteria' && alternate && valueSets.conceptIn(alternate.whenOrderIn, det.order.code)) {
    // pruneEmpty (below) copies every array and object, so the request's order is never shared.
    const { id: _id, extension: _ext, ...rest } = det.order;
    const replacement: ServiceRequest = {
      ...(pruneEmpty(rest) as Omit<ServiceRequest, 'id'>),
      resourceType: 'ServiceRequest',
      id: randomUUID(),
      status: 'draft',
      code: { coding: [alternate.replacement], text: alternate.replacement.display },
    };
    const current = det.order.code?.coding?.find((c) => c.code)?.display ?? det.order.code?.text ?? 'the current order';
    suggestions.push({
      label: `Order ${alternate.replacement.display} (CPT ${alternate.replacement.code}) instead`,
      uuid: randomUUID(),
      isRecommended: true,
      actions: [
        // resourceId is what CDS Hooks 2.0.1 asks of a delete; the order itself rides along as `resource` (an object,
        // which the spec permits) because the CRD request generator reads the target from it and fails without it.
        { type: 'delete', description: `Remove ${current}`, resourceId: det.orderReference, resource: (pruneEmpty(det.order) ?? { resourceType: 'ServiceRequest' }) as ServiceRequest },
        { type: 'create', description: `Create an order for ${alternate.replacement.display} (CPT ${alternate.replacement.code})`, resource: replacement },
      ],
    });
  }
  return suggestions;
}
