import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SUPPORTED_HOOKS, type SupportedHook } from './discovery.js';

/** A FHIR Bundle as a hook context carries it (draftOrders, appointments). */
export interface ContextBundle {
  readonly resourceType: 'Bundle';
  readonly entry?: readonly { readonly resource?: unknown }[];
}

/**
 * A CDS Hooks 2.0.1 call to one of the hooks this service answers, as far as it reads it; unknown fields are
 * ignored (CRD hook-23, found-33). Which context fields are required depends on the hook (the schema below):
 * order-sign / order-select carry draftOrders, appointment-book carries appointments, order-dispatch names the
 * dispatched orders by reference and the performer.
 */
export interface HookRequest {
  readonly hook: SupportedHook;
  readonly hookInstance: string;
  readonly fhirServer?: string;
  readonly fhirAuthorization?: { readonly access_token: string; readonly token_type?: string };
  readonly context: {
    readonly userId?: string;
    readonly patientId: string;
    readonly encounterId?: string;
    readonly draftOrders?: ContextBundle;
    readonly selections?: readonly string[];
    /** appointment-book: the Bundle of proposed Appointments. */
    readonly appointments?: ContextBundle;
    /** order-dispatch (hook v1.0): references to the orders being dispatched. */
    readonly dispatchedOrders?: readonly string[];
    /** order-dispatch as some clients send it: one order reference. */
    readonly order?: string;
    /** order-dispatch: who the orders are dispatched to (a reference). Noted, not used for the decision. */
    readonly performer?: string;
  };
  readonly prefetch?: Readonly<Record<string, unknown>>;
  /** CDS Hooks §Extensions: Da Vinci CRD's davinci-crd.configuration rides here, read leniently. */
  readonly extension?: unknown;
}

/** One CDS Hooks §Feedback item. */
export interface FeedbackItem {
  readonly card: string;
  readonly outcome: 'accepted' | 'overridden';
  readonly acceptedSuggestions?: readonly { readonly id: string }[];
  readonly overrideReason?: { readonly reason?: { readonly code?: string; readonly system?: string }; readonly userComment?: string };
  readonly outcomeTimestamp: string;
}

export interface FeedbackRequest {
  readonly feedback: readonly FeedbackItem[];
}

export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly message: string };

/** FHIR id syntax; the patient id is put into FHIR URLs, so nothing else gets through. */
const FHIR_ID = '^[A-Za-z0-9\\-.]{1,64}$';

const BUNDLE = {
  type: 'object',
  required: ['resourceType'],
  properties: {
    resourceType: { const: 'Bundle' },
    entry: { type: 'array', items: { type: 'object', properties: { resource: { type: 'object' } } } },
  },
};

/** A FHIR reference string ("ServiceRequest/123", or an absolute URL). */
const REFERENCE = { type: 'string', minLength: 1, maxLength: 2048 };

function hookRequestSchema(prefetchKeys: readonly string[]): object {
  const requires = (hooks: readonly SupportedHook[], then: object): object => ({
    if: { properties: { hook: { enum: hooks } } },
    then: { properties: { context: then } },
  });
  return {
    type: 'object',
    required: ['hook', 'hookInstance', 'context'],
    properties: {
      hook: { type: 'string', enum: SUPPORTED_HOOKS },
      hookInstance: { type: 'string', minLength: 1, maxLength: 256 },
      fhirServer: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2048 },
      fhirAuthorization: {
        type: 'object',
        required: ['access_token'],
        properties: {
          access_token: { type: 'string', maxLength: 16384 },
          token_type: { type: 'string' },
        },
      },
      context: {
        type: 'object',
        required: ['patientId'],
        properties: {
          userId: { type: 'string', minLength: 1, maxLength: 256 },
          patientId: { type: 'string', pattern: FHIR_ID },
          encounterId: { type: 'string' },
          draftOrders: BUNDLE,
          selections: { type: 'array', items: { type: 'string', minLength: 1 } },
          appointments: BUNDLE,
          dispatchedOrders: { type: 'array', minItems: 1, maxItems: 100, items: REFERENCE },
          order: REFERENCE,
          performer: REFERENCE,
        },
      },
      prefetch: {
        type: 'object',
        // CDS Hooks §Prefetch: each value is a resource, a Bundle, or null; other keys are not ours.
        properties: Object.fromEntries(prefetchKeys.map((k) => [k, { type: ['object', 'null'] }])),
      },
    },
    allOf: [
      requires(['order-sign', 'order-select'], { required: ['userId', 'draftOrders'] }),
      // order-select names the orders it is about (SPEC §1).
      requires(['order-select'], { required: ['selections'], properties: { selections: { minItems: 1 } } }),
      requires(['appointment-book'], { required: ['userId', 'appointments'] }),
      // order-dispatch v1.0 sends dispatchedOrders; a single `order` reference is read the same way.
      requires(['order-dispatch'], { required: ['performer'], anyOf: [{ required: ['dispatchedOrders'] }, { required: ['order'] }] }),
    ],
  };
}

const feedbackSchema = {
  type: 'object',
  required: ['feedback'],
  properties: {
    feedback: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['card', 'outcome', 'outcomeTimestamp'],
        properties: {
          card: { type: 'string', minLength: 1, maxLength: 256 },
          outcome: { enum: ['accepted', 'overridden'] },
          acceptedSuggestions: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } },
          overrideReason: {
            type: 'object',
            properties: {
              reason: { type: 'object', properties: { code: { type: 'string' }, system: { type: 'string' } } },
              userComment: { type: 'string' },
            },
          },
          outcomeTimestamp: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
        },
        if: { properties: { outcome: { const: 'accepted' } } },
        then: { required: ['acceptedSuggestions'] },
      },
    },
  },
};

/** "context.patientId" from an ajv error, so the OperationOutcome names the field a client must fix. */
function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  const missing = error.keyword === 'required' ? (error.params as { missingProperty?: string }).missingProperty : undefined;
  return [path, missing].filter(Boolean).join('.') || '(body)';
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'required') {
    return `${fieldOf(error)} is required`;
  }
  if (error.keyword === 'enum' || error.keyword === 'const') {
    const allowed = (error.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [(error.params as { allowedValue?: unknown }).allowedValue];
    return `${fieldOf(error)} must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}`;
  }
  return `${fieldOf(error)} ${error.message ?? 'is invalid'}`;
}

function validator<T>(validate: ValidateFunction): (body: unknown) => Validation<T> {
  return (body) => {
    if (validate(body)) {
      return { ok: true, value: body as T };
    }
    // Report the most specific error: if/then wrappers say less than the error inside them.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf');
    const error = errors[0];
    return error ? { ok: false, field: fieldOf(error), message: messageOf(error) } : { ok: false, field: '(body)', message: 'invalid request' };
  };
}

/**
 * Builds the validators for hook calls and feedback.
 * @param prefetchKeys - the service's own prefetch keys, whose values must be objects or null
 */
export function requestValidators(prefetchKeys: readonly string[]): {
  hookRequest: (body: unknown) => Validation<HookRequest>;
  feedback: (body: unknown) => Validation<FeedbackRequest>;
} {
  const ajv = new Ajv({ allErrors: false, strict: false });
  return {
    hookRequest: validator<HookRequest>(ajv.compile(hookRequestSchema(prefetchKeys))),
    feedback: validator<FeedbackRequest>(ajv.compile(feedbackSchema)),
  };
}
