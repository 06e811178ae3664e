import { randomUUID } from 'node:crypto';
import type { Questionnaire, ServiceRequest } from 'fhir/r4.js';
import { isoDay } from '../facts/fhir-dates.js';
import { FAILURE_LABEL } from '../fhir/patient-record.js';
import type { UnreadOrder } from './hook-orders.js';
import type { CoverageSituation } from '../crd/coverage-choice.js';
import {
  coverageInformationExtension,
  newAssertionId,
  withCoverageInformation,
  type CoverageAssertion,
} from '../crd/coverage-information.js';
import { isOn, topicOf, type CardKind, type Configuration, type ConfigurationOptions } from '../crd/configuration.js';
import { alreadyAsserted } from '../crd/idempotence.js';
import type { Plan } from '../crd/plans.js';
import type { LoadedPolicy } from '../policy/load-policy.js';
import { fill, type CardTemplates } from './card-templates.js';
import type { Action, Card } from './cds-types.js';
import type { CoverageCardTemplates, UnreviewedSituation } from './coverage-cards.js';
import type { Determination } from './determine.js';
import { canonical } from './questionnaire.js';
import { md } from './render-card.js';

/** Everything the CRD side of a response needs that does not change per call. */
export interface CrdWording {
  readonly loaded: LoadedPolicy;
  readonly templates: CardTemplates;
  readonly coverageCards: CoverageCardTemplates;
  readonly options: ConfigurationOptions;
  /** The service's configured payer name (the first plan's), for cards that concern no plan in particular. */
  readonly payerName: string;
}

const SUMMARY_MAX = 139;
const clip = (s: string): string => (s.length <= SUMMARY_MAX ? s : `${s.slice(0, SUMMARY_MAX - 1)}…`);

/** "MRI lumbar spine without contrast (CPT 72148), ServiceRequest/x": how a card names its order (CRD dev-24). */
export function describeOrder(order: ServiceRequest): string {
  const coding = order.code?.coding?.find((c) => typeof c.code === 'string' && c.code !== '');
  const name = order.code?.text ?? coding?.display ?? 'Order';
  const code = coding?.code !== undefined && !name.includes(coding.code) ? ` (${coding.system === 'http://www.ama-assn.org/go/cpt' ? 'CPT ' : ''}${coding.code})` : '';
  return `${md(name)}${code}, \`ServiceRequest/${order.id ?? 'unidentified'}\``;
}

/**
 * What the payer asserts for an order that was decided (SPEC §7's table), under the coverage situation of §7.1.
 * A Coverage that could not be read makes coverage indeterminate whatever the decision: an approval is never
 * given without knowing the patient is a member (resp-43).
 */
export function assertionForDetermination(
  det: Determination,
  situation: Extract<CoverageSituation, { kind: 'served' | 'unreadable' }>,
  config: Configuration,
  w: CrdWording,
  labelOf: (id: string) => string,
  receivedAt: number,
  questionnaire?: Questionnaire,
): CoverageAssertion {
  const t = w.templates.coverageInformation;
  const date = isoDay(receivedAt);
  if (situation.kind === 'unreadable') {
    return {
      coverage: { display: w.coverageCards.unreadable.coverageDisplay },
      covered: 'indeterminate',
      reason: { code: 'technical', text: fill(w.coverageCards.unreadable.reason, { failure: FAILURE_LABEL[situation.failure] }) },
      date,
    };
  }
  const coverage = { reference: situation.reference };
  const { decision } = det.outcome;
  // SPEC §7: nothing could be read and nothing decided → indeterminate, with a technical reason (crd-ci-q9).
  if (det.noSourceReadable && decision === 'documentation-needed') {
    return { coverage, covered: 'indeterminate', reason: { code: 'technical', text: t.noneReadable }, date };
  }
  switch (decision) {
    case 'meets-criteria':
      // found-35: a what-if call turns unsolicited-determ off, and then gets no authorization number.
      return isOn(config, 'unsolicited-determ')
        ? { coverage, covered: 'covered', paNeeded: 'satisfied', date }
        : { coverage, covered: 'covered', paNeeded: 'auth-needed', reason: { text: w.coverageCards.withoutDetermination }, date };
    case 'documentation-needed': {
      const items = det.outcome.missing.map(labelOf).join('; ');
      return {
        coverage,
        covered: 'conditional',
        paNeeded: 'auth-needed',
        docNeeded: 'clinical',
        docPurpose: 'withpa',
        infoNeeded: 'OTH',
        ...(questionnaire ? { questionnaire: canonical(questionnaire) } : {}),
        reason: { text: fill(t.missingReason, { items: items || 'see the card' }) },
        date,
      };
    }
    case 'does-not-meet-criteria': {
      const non = det.outcome.satisfiedCriteria.filter((id) => id.startsWith('non.'));
      const items = (non.length > 0 ? non : ['ind']).map(labelOf).join('; ');
      return { coverage, covered: 'not-covered', reason: { text: fill(t.notCoveredReason, { items }) }, date };
    }
  }
}

/** What the payer asserts for an order it did not review (SPEC §7.1): not-covered, with the reason code. */
export function assertionForUnreviewed(situation: Extract<CoverageSituation, { kind: UnreviewedSituation }>, w: CrdWording, receivedAt: number): CoverageAssertion {
  const wording = w.coverageCards.situations[situation.kind];
  const date = isoDay(receivedAt);
  switch (situation.kind) {
    case 'not-in-force':
      return { coverage: { reference: situation.reference }, covered: 'not-covered', reason: { code: 'no-active-coverage', text: fill(wording.reason, { plan: situation.plan.name }) }, date };
    case 'other-payer':
      return { coverage: { display: wording.coverageDisplay ?? 'Patient coverage' }, covered: 'not-covered', reason: { code: 'no-member-found', text: fill(wording.reason, { plan: w.payerName }) }, date };
    case 'none':
      return { coverage: { display: wording.coverageDisplay ?? 'Patient coverage' }, covered: 'not-covered', reason: { code: 'coverage-not-found', text: fill(wording.reason, { plan: w.payerName }) }, date };
  }
}

/**
 * The coverage-information system action for an order, or none when the order already carries this service's
 * assertion with the same outcome for the same coverage (CRD resp-29, resp-35). The order goes back unchanged but
 * for this service's extension (resp-37).
 */
export function coverageAction(
  order: ServiceRequest,
  assertion: CoverageAssertion,
  w: CrdWording,
  questionnaireServed?: (canonical: string) => boolean,
): Action | undefined {
  if (alreadyAsserted(order, assertion, questionnaireServed ? { questionnaireServed } : {})) {
    return undefined;
  }
  return {
    type: 'update',
    description: fill(w.templates.coverageInformation.description, { service: w.loaded.policy.service }),
    resource: withCoverageInformation(order, coverageInformationExtension(assertion, newAssertionId())),
  };
}

/** The card kind of a determination card (cards/configuration-options.json cardTypes). */
export function kindOf(det: Determination): CardKind {
  return det.outcome.decision;
}

/**
 * A determination card as CRD wants it: the plan's name as source.label (resp-4), a CRD response type as
 * source.topic (resp-5), the order named in the detail (dev-24) and referenced in the associated-resource
 * extension (dev-25), beside the determination's own `order`. On order-dispatch the line says who the order goes to.
 */
export function crdCard(card: Card, det: Determination, plan: Plan | undefined, via: string | undefined, w: CrdWording, performer?: string): Card {
  const dispatched = performer !== undefined ? fill(w.coverageCards.dispatchedTo, { performer: performer.replace(/[`\s]/g, '') }) : '';
  return {
    ...card,
    source: { ...card.source, label: plan?.name ?? w.payerName, topic: topicOf(w.options, kindOf(det)) },
    detail: `${fill(w.coverageCards.orderLine, { order: describeOrder(det.order) })}${dispatched}\n\n${card.detail ?? ''}`,
    extension: { ...card.extension, 'davinci-crd.associated-resource': [...(via !== undefined ? [via] : []), det.orderReference] },
  };
}

/** SPEC §7.1: one card, without a determination, for the orders not reviewed for one reason. */
export function unreviewedCard(
  kind: UnreviewedSituation,
  orders: readonly { readonly order: ServiceRequest; readonly via?: string | undefined; readonly plan?: Plan | undefined }[],
  policyUrl: string,
  w: CrdWording,
): Card {
  const wording = w.coverageCards.situations[kind];
  const plan = orders.find((o) => o.plan)?.plan?.name ?? w.payerName;
  const vars = { plan, service: w.loaded.policy.service, orders: orders.map((o) => describeOrder(o.order)).join('; ') };
  const refs = [...new Set(orders.flatMap((o) => [...(o.via !== undefined ? [o.via] : []), `ServiceRequest/${o.order.id ?? 'unidentified'}`]))];
  return {
    uuid: randomUUID(),
    summary: clip(fill(wording.summary, vars)),
    indicator: wording.indicator,
    detail: fill(wording.detail, vars),
    // SPEC §7.1: with no determination, the label is the service's configured payer name.
    source: { label: w.payerName, url: policyUrl, topic: topicOf(w.options, 'coverage') },
    extension: { 'davinci-crd.associated-resource': refs },
  };
}

/**
 * House rule: a failing FHIR server gets an answer that says what could not be done. Orders an appointment or a
 * dispatch names that could not be read are listed on one warning card: nothing is known of them, so no
 * coverage information can be recorded on them.
 */
export function unreadOrdersCard(unread: readonly UnreadOrder[], w: CrdWording): Card | undefined {
  if (unread.length === 0) {
    return undefined;
  }
  const t = w.coverageCards.unreadOrders;
  const orders = unread.map((u) => `- \`${u.reference}\`: ${FAILURE_LABEL[u.failure]}`).join('\n');
  return {
    uuid: randomUUID(),
    summary: clip(t.summary),
    indicator: t.indicator,
    detail: fill(t.detail, { orders, service: w.loaded.policy.service }),
    source: { label: w.payerName, topic: topicOf(w.options, 'coverage') },
    extension: { 'davinci-crd.associated-resource': unread.map((u) => u.reference) },
  };
}

/** dev-6: a configuration that could not be applied as sent is said so on a warning card, never refused. */
export function configurationCard(config: Configuration, w: CrdWording): Card | undefined {
  if (config.problems.length === 0) {
    return undefined;
  }
  const t = w.coverageCards.configuration;
  return {
    uuid: randomUUID(),
    summary: clip(t.summary),
    indicator: t.indicator,
    detail: fill(t.detail, { problems: config.problems.map((p) => `- ${md(p.text)}`).join('\n') }),
    source: { label: w.payerName, topic: topicOf(w.options, 'configuration') },
  };
}

/**
 * The cards the configuration lets through (dev-5: a card type set false returns no card of that type), the
 * configuration warning first. The warning itself is not filtered: it is about the request, and a client that sent
 * a configuration that could not be applied needs to hear of it.
 */
export function configuredCards(warning: Card | undefined, cards: readonly Card[], config: Configuration): Card[] {
  const wanted = cards.filter((c) => c.source.topic?.code === undefined || isOn(config, c.source.topic.code));
  return [...(warning ? [warning] : []), ...wanted];
}
