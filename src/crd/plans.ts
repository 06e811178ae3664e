import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ConfigError } from '../config.js';
import { projectRoot } from '../project-root.js';

/** A payer identifier as a Coverage or Organization carries it (`Identifier.system` and `value`). */
export interface PayerIdentifier {
  readonly system: string;
  readonly value: string;
}

/** A health plan this service reviews orders for (SPEC §7.1): its name, and what identifies its payer. */
export interface Plan {
  readonly name: string;
  readonly payerIdentifiers: readonly PayerIdentifier[];
  readonly payerNames: readonly string[];
}

const schema = {
  type: 'object',
  required: ['plans'],
  properties: {
    plans: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          payerIdentifiers: {
            type: 'array',
            items: { type: 'object', required: ['system', 'value'], properties: { system: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } } },
          },
          payerNames: { type: 'array', items: { type: 'string', pattern: '\\S' } },
        },
        // A plan that nothing can identify would silently serve no one.
        anyOf: [
          { required: ['payerIdentifiers'], properties: { payerIdentifiers: { minItems: 1 } } },
          { required: ['payerNames'], properties: { payerNames: { minItems: 1 } } },
        ],
      },
    },
  },
};

/** The plans file shipped with the service: the evaluation's example plan (SPEC §7.1). */
export function defaultPlansFile(): string {
  return join(projectRoot(), 'policy', 'plans.json');
}

/**
 * Loads and validates the plans file. A deployment names its own with CDS_PLANS_FILE; a missing, unreadable or
 * malformed file stops the start with a ConfigError naming the problem, never a service that serves no one.
 * @param file - the plans file (default: policy/plans.json)
 */
export function loadPlans(file: string = defaultPlansFile()): readonly Plan[] {
  if (!existsSync(file)) {
    throw new ConfigError(`CDS_PLANS_FILE: ${file} does not exist`);
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`CDS_PLANS_FILE: ${file} is not valid JSON`);
  }
  const ajv = new Ajv({ strict: false, allErrors: false });
  if (!ajv.validate(schema, data)) {
    const e = ajv.errors?.find((x) => x.keyword !== 'anyOf') ?? ajv.errors?.[0];
    const where = e?.instancePath ? e.instancePath.split('/').filter(Boolean).join('.') : 'the file';
    const what = e?.keyword === 'anyOf' || ajv.errors?.some((x) => x.keyword === 'anyOf') ? 'needs at least one payer identifier or payer name' : (e?.message ?? 'is invalid');
    throw new ConfigError(`CDS_PLANS_FILE: ${file}: ${where} ${what}`);
  }
  const plans = (data as { plans: { name: string; payerIdentifiers?: PayerIdentifier[]; payerNames?: string[] }[] }).plans;
  return plans.map((p) => ({
    name: p.name,
    payerIdentifiers: (p.payerIdentifiers ?? []).map((i) => ({ system: i.system, value: i.value })),
    payerNames: (p.payerNames ?? []).map((n) => n.trim()),
  }));
}
