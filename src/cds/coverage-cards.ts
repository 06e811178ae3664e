import { Ajv } from 'ajv';
import { readProjectJson } from '../project-root.js';

/** A §7.1 situation whose card carries no determination. */
export type UnreviewedSituation = 'not-in-force' | 'other-payer' | 'none';

interface SituationWording {
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly summary: string;
  readonly detail: string;
  readonly reason: string;
  readonly coverageDisplay?: string;
}

/** The wording of cards/coverage.json: SPEC §7.1 cards and reasons, and the configuration warning. */
export interface CoverageCardTemplates {
  readonly situations: Readonly<Record<UnreviewedSituation, SituationWording>>;
  readonly unreadable: { readonly reason: string; readonly coverageDisplay: string };
  /** appointment-book / order-dispatch: orders named by reference that could not be read. */
  readonly unreadOrders: { readonly indicator: 'info' | 'warning' | 'critical'; readonly summary: string; readonly detail: string };
  readonly withoutDetermination: string;
  readonly orderLine: string;
  /** Appended to the order line on order-dispatch: who the order goes to. */
  readonly dispatchedTo: string;
  readonly configuration: { readonly indicator: 'info' | 'warning' | 'critical'; readonly summary: string; readonly detail: string };
}

const text = { type: 'string', minLength: 1 };
const situation = {
  type: 'object',
  required: ['indicator', 'summary', 'detail', 'reason'],
  properties: { indicator: { enum: ['info', 'warning', 'critical'] }, summary: { type: 'string', minLength: 1, maxLength: 120 }, detail: text, reason: text, coverageDisplay: text },
};
const schema = {
  type: 'object',
  required: ['situations', 'unreadable', 'unreadOrders', 'withoutDetermination', 'orderLine', 'dispatchedTo', 'configuration'],
  properties: {
    situations: {
      type: 'object',
      required: ['not-in-force', 'other-payer', 'none'],
      properties: {
        'not-in-force': situation,
        // SPEC §7.1: with no Coverage to reference, the action's coverage is a display only.
        'other-payer': { ...situation, required: [...situation.required, 'coverageDisplay'] },
        none: { ...situation, required: [...situation.required, 'coverageDisplay'] },
      },
    },
    unreadable: { type: 'object', required: ['reason', 'coverageDisplay'], properties: { reason: text, coverageDisplay: text } },
    unreadOrders: {
      type: 'object',
      required: ['indicator', 'summary', 'detail'],
      properties: { indicator: { enum: ['info', 'warning', 'critical'] }, summary: { type: 'string', minLength: 1, maxLength: 139 }, detail: text },
    },
    withoutDetermination: text,
    orderLine: text,
    dispatchedTo: text,
    configuration: {
      type: 'object',
      required: ['indicator', 'summary', 'detail'],
      properties: { indicator: { enum: ['info', 'warning', 'critical'] }, summary: { type: 'string', minLength: 1, maxLength: 139 }, detail: text },
    },
  },
};

/** Loads and validates cards/coverage.json, so a broken template stops the start, not a signing. */
export function loadCoverageCardTemplates(): CoverageCardTemplates {
  const data = readProjectJson('cards', 'coverage.json');
  const ajv = new Ajv({ strict: false });
  if (!ajv.validate(schema, data)) {
    throw new Error(`cards/coverage.json: ${ajv.errorsText()}`);
  }
  return data as CoverageCardTemplates;
}
