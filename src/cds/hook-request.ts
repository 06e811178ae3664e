import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { SupportedHook } from './discovery.js';

/** A CDS Hooks 2.0.1 call to an order hook, as far as this service reads it; unknown fields are ignored. */
export interface HookRequest {
  readonly hook: SupportedHook;
  readonly hookInstance: string;
  readonly fhirServer?: string;
  readonly fhirAuthorization?: { readonly access_token: string; readonly token_type?: string };
  readonly context: {
    readonly userId: string;
    readonly patientId: string;
    readonly encounterId?: string;
    readonly draftOrders: { readonly resourceType: 'Bundle'; readonly entry?: readonly { readonly resource?: unknown }[] };
    readonly selections?: readonly string[];
  };
  readonly prefetch?: Readonly<Record<string, unknown>>;
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

function hookRequestSchema(prefetchKeys: readonly string[]): object {
  return {
    type: 'object',
    required: ['hook', 'hookInstance', 'context'],
    properties: {
      hook: { type: 'string', enum: ['order-sign', 'order-select'] },
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
        required: ['userId', 'patientId', 'draftOrders'],
        properties: {
          userId: { type: 'string', minLength: 1, maxLength: 256 },
          patientId: { type: 'string', pattern: FHIR_ID },
          encounterId: { type: 'string' },
          draftOrders: {
            type: 'object',
            required: ['resourceType'],
            properties: {
              resourceType: { const: 'Bundle' },
              entry: { type: 'array', items: { type: 'object', properties: { resource: { type: 'object' } } } },
            },
          },
          selections: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
      prefetch: {
        type: 'object',
        // CDS Hooks §Prefetch: each value is a resource, a Bundle, or null; other keys are not ours.
        properties: Object.fromEntries(prefetchKeys.map((k) => [k, { type: ['object', 'null'] }])),
      },
    },
    // order-select names the orders it is about (SPEC §1).
    if: { properties: { hook: { const: 'order-select' } } },
    then: { properties: { context: { required: ['selections'], properties: { selections: { minItems: 1 } } } } },
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
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
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
