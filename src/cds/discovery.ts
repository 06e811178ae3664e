import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { templateType, type PrefetchTemplate } from '../fhir/data-source.js';
import { SOURCE_TYPES } from '../fhir/patient-record.js';
import { projectRoot, readProjectJson } from '../project-root.js';

export type SupportedHook = 'order-sign' | 'order-select';

/** A service as defined in hooks/: one id, served once per hook it listens on. */
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
}

const schema = {
  type: 'object',
  required: ['id', 'hooks', 'title', 'description', 'prefetch'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9-]+$' },
    hooks: { type: 'array', minItems: 1, items: { enum: ['order-sign', 'order-select'] } },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    usageRequirements: { type: 'string' },
    prefetch: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
  },
};

/** Loads every service definition in hooks/, checking each prefetch template reads a type the policy uses. */
export function loadServiceDefinitions(): ServiceDefinition[] {
  const dir = join(projectRoot(), 'hooks');
  const ajv = new Ajv({ strict: false });
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const data = readProjectJson('hooks', file);
      if (!ajv.validate(schema, data)) {
        throw new Error(`hooks/${file}: ${ajv.errorsText()}`);
      }
      const def = data as ServiceDefinition;
      for (const [key, query] of Object.entries(def.prefetch)) {
        if (!templateType(query)) {
          throw new Error(`hooks/${file}: prefetch '${key}' reads a type the service does not use (${SOURCE_TYPES.join(', ')})`);
        }
      }
      return def;
    });
}

/** The discovery entries: one per (service, hook). */
export function discoveryEntries(services: readonly ServiceDefinition[]): DiscoveryEntry[] {
  return services.flatMap((s) =>
    s.hooks.map((hook) => ({
      hook,
      id: s.id,
      title: s.title,
      description: s.description,
      ...(s.usageRequirements !== undefined ? { usageRequirements: s.usageRequirements } : {}),
      prefetch: s.prefetch,
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
