import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { templateType, type PrefetchTemplate } from '../fhir/data-source.js';
import { SOURCE_TYPES } from '../fhir/patient-record.js';
import { projectRoot, readProjectJson } from '../project-root.js';

/** The hooks this service answers: the CRD primary hooks (order-sign, appointment-book, order-dispatch) and order-select. */
export const SUPPORTED_HOOKS = ['order-sign', 'order-select', 'appointment-book', 'order-dispatch'] as const;
export type SupportedHook = (typeof SUPPORTED_HOOKS)[number];

/** CRD hooks.md: the primary hooks, which carry the coverage-information system action (hook-16, hook-26, hook-33). */
export function isPrimaryHook(hook: SupportedHook): boolean {
  return hook !== 'order-select';
}

/** A service as defined in hooks/: one id per hook, since clients such as the CDS Hooks sandbox key services by id. */
export interface ServiceDefinition {
  readonly id: string;
  readonly hooks: readonly SupportedHook[];
  readonly title: string;
  readonly description: string;
  readonly usageRequirements?: string;
  readonly prefetch: Readonly<Record<string, string>>;
}

/** CDS Hooks §Discovery response entry. */
export interface DiscoveryEntry {
  readonly hook: SupportedHook;
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly usageRequirements?: string;
  readonly prefetch: Readonly<Record<string, string>>;
  /** Da Vinci CRD discovery extensions (deviations.md): davinci-crd.version and davinci-crd.configuration-options. */
  readonly extension?: Readonly<Record<string, unknown>>;
}

const schema = {
  type: 'object',
  required: ['id', 'hooks', 'title', 'description'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9-]+$' },
    hooks: { type: 'array', minItems: 1, maxItems: 1, items: { enum: SUPPORTED_HOOKS } },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    usageRequirements: { type: 'string' },
    prefetch: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
  },
};

/** The file of prefetch templates every service shares, unless its own file gives its own. */
const SHARED_PREFETCH = 'prefetch.json';

/** Loads every service definition in hooks/, checking each prefetch template reads a type the policy uses. */
export function loadServiceDefinitions(): ServiceDefinition[] {
  const dir = join(projectRoot(), 'hooks');
  const ajv = new Ajv({ strict: false });
  const shared = readProjectJson('hooks', SHARED_PREFETCH) as { prefetch?: unknown };
  if (!ajv.validate(schema.properties.prefetch, shared.prefetch)) {
    throw new Error(`hooks/${SHARED_PREFETCH}: ${ajv.errorsText()}`);
  }
  const sharedPrefetch = shared.prefetch as Readonly<Record<string, string>>;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== SHARED_PREFETCH)
    .sort()
    .map((file) => {
      const data = readProjectJson('hooks', file);
      if (!ajv.validate(schema, data)) {
        throw new Error(`hooks/${file}: ${ajv.errorsText()}`);
      }
      const given = data as Omit<ServiceDefinition, 'prefetch'> & { prefetch?: Readonly<Record<string, string>> };
      const def: ServiceDefinition = { ...given, prefetch: given.prefetch ?? sharedPrefetch };
      for (const [key, query] of Object.entries(def.prefetch)) {
        if (!templateType(query)) {
          throw new Error(`hooks/${file}: prefetch '${key}' reads a type the service does not use (${SOURCE_TYPES.join(', ')})`);
        }
      }
      return def;
    })
    .map((def, _i, all) => {
      if (all.filter((d) => d.id === def.id).length > 1) {
        throw new Error(`hooks/: service id '${def.id}' is defined twice (one id per hook)`);
      }
      return def;
    });
}

/**
 * The discovery entries: one per (service, hook), each with the Da Vinci CRD version it implements (dev-1,
 * major.minor) and its configuration options (dev-4, dev-5).
 * @param services - the service definitions
 * @param crd - the supported CRD versions and configuration options
 */
export function discoveryEntries(
  services: readonly ServiceDefinition[],
  crd: { readonly versions: readonly string[]; readonly options: readonly object[] },
): DiscoveryEntry[] {
  return services.flatMap((s) =>
    s.hooks.map((hook) => ({
      hook,
      id: s.id,
      title: s.title,
      description: s.description,
      ...(s.usageRequirements !== undefined ? { usageRequirements: s.usageRequirements } : {}),
      prefetch: s.prefetch,
      extension: { 'davinci-crd.version': [...crd.versions], 'davinci-crd.configuration-options': crd.options.map((o) => ({ ...o })) },
    })),
  );
}

/** The templates of a service with the resource type each returns. */
export function prefetchTemplates(service: ServiceDefinition): PrefetchTemplate[] {
  return Object.entries(service.prefetch).flatMap(([key, query]) => {
    const type = templateType(query);
    return type ? [{ key, type, query }] : [];
  });
}
