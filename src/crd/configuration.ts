import { Ajv } from 'ajv';
import type { Coding } from 'fhir/r4.js';
import { readProjectJson } from '../project-root.js';

/** One Da Vinci CRD configuration option (deviations.md dev-4: code, type, name, description, default). */
export interface ConfigurationOption {
  readonly code: string;
  readonly type: 'boolean' | 'integer';
  readonly name: string;
  readonly description: string;
  readonly default: boolean | number;
}

/** What each of this service's cards is, as a CRD response type (CRDCardType.fsh). */
export type CardKind = 'meets-criteria' | 'documentation-needed' | 'does-not-meet-criteria' | 'coverage' | 'configuration';

export interface ConfigurationOptions {
  /** Supported CRD versions, major.minor (deviations.md dev-1). */
  readonly versions: readonly string[];
  readonly cardTypeSystem: string;
  readonly cardTypes: Readonly<Record<CardKind, { readonly code: string; readonly display: string }>>;
  readonly options: readonly ConfigurationOption[];
}

const KINDS: readonly CardKind[] = ['meets-criteria', 'documentation-needed', 'does-not-meet-criteria', 'coverage', 'configuration'];

const schema = {
  type: 'object',
  required: ['versions', 'cardTypeSystem', 'cardTypes', 'options'],
  properties: {
    versions: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^\\d+\\.\\d+$' } },
    cardTypeSystem: { type: 'string', minLength: 1 },
    cardTypes: {
      type: 'object',
      required: KINDS,
      additionalProperties: { type: 'object', required: ['code', 'display'], properties: { code: { type: 'string', minLength: 1 }, display: { type: 'string', minLength: 1 } } },
    },
    options: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['code', 'type', 'name', 'description', 'default'],
        properties: {
          code: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          type: { enum: ['boolean', 'integer'] },
          name: { type: 'string', minLength: 1 },
          description: { type: 'string', minLength: 1 },
        },
        if: { properties: { type: { const: 'boolean' } } },
        then: { properties: { default: { type: 'boolean' } } },
        else: { properties: { default: { type: 'integer', minimum: 0 } } },
      },
    },
  },
};

/**
 * Loads cards/configuration-options.json and checks what CRD asks of it: codes, names and descriptions unique
 * (dev-8), and an option for every card type the service returns (dev-5), so a client can turn each one off.
 */
export function loadConfigurationOptions(): ConfigurationOptions {
  const data = readProjectJson('cards', 'configuration-options.json');
  const ajv = new Ajv({ strict: false });
  if (!ajv.validate(schema, data)) {
    throw new Error(`cards/configuration-options.json: ${ajv.errorsText()}`);
  }
  const options = data as ConfigurationOptions;
  for (const field of ['code', 'name', 'description'] as const) {
    const values = options.options.map((o) => o[field]);
    if (new Set(values).size !== values.length) {
      throw new Error(`cards/configuration-options.json: option ${field}s must be unique (CRD dev-8)`);
    }
  }
  for (const kind of KINDS) {
    const code = options.cardTypes[kind].code;
    if (!options.options.some((o) => o.code === code && o.type === 'boolean')) {
      throw new Error(`cards/configuration-options.json: card type '${code}' has no boolean option (CRD dev-5)`);
    }
  }
  return options;
}

/** The card topic of a kind of card (CRD resp-5: from the CRD Response Types). */
export function topicOf(options: ConfigurationOptions, kind: CardKind): Coding {
  const t = options.cardTypes[kind];
  return { system: options.cardTypeSystem, code: t.code, display: t.display };
}

/** An option that was sent but could not be applied: its code, and a sentence for the warning card. */
export interface ConfigurationProblem {
  readonly option: string;
  readonly text: string;
}

/** The configuration a request asks for, every option resolved, with what could not be applied and why. */
export interface Configuration {
  /** Option values by code: what the request set when valid, else the default. */
  readonly values: ReadonlyMap<string, boolean | number>;
  /** Problems with what was sent (no patient data: option codes and types only), for a warning card and the log. */
  readonly problems: readonly ConfigurationProblem[];
}

/** Whether a boolean option is on. */
export function isOn(config: Configuration, code: string): boolean {
  return config.values.get(code) !== false;
}

/** An integer option's value, if the service has that option. */
export function integerOption(config: Configuration, code: string): number | undefined {
  const v = config.values.get(code);
  return typeof v === 'number' ? v : undefined;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads a request's `extension["davinci-crd.configuration"]` leniently (deviations.md): no configuration is
 * fine (dev-15); unknown options are ignored (dev-17); a known option of the wrong type, an integer out of
 * range or a combination that cannot be honoured is not applied, falls back to the default, and is reported
 * (dev-6: gracefully, never a failed call).
 * @param options - the service's options
 * @param extension - the request's `extension` object, whatever it holds
 */
export function readConfiguration(options: ConfigurationOptions, extension: unknown): Configuration {
  const values = new Map<string, boolean | number>(options.options.map((o) => [o.code, o.default]));
  const problems: ConfigurationProblem[] = [];
  const raw = isObject(extension) ? extension['davinci-crd.configuration'] : undefined;
  if (raw === undefined || raw === null) {
    return { values, problems };
  }
  if (!isObject(raw)) {
    problems.push({ option: 'davinci-crd.configuration', text: 'davinci-crd.configuration is not an object of option codes and values; every option keeps its default' });
    return { values, problems };
  }
  for (const option of options.options) {
    if (!Object.hasOwn(raw, option.code)) {
      continue;
    }
    const value = raw[option.code];
    if (option.type === 'boolean' && typeof value === 'boolean') {
      values.set(option.code, value);
    } else if (option.type === 'integer' && typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      values.set(option.code, value);
    } else {
      const wanted = option.type === 'boolean' ? 'true or false' : 'a whole number of 0 or more';
      problems.push({ option: option.code, text: `${option.code} must be ${wanted}; the default (${String(option.default)}) was used` });
    }
  }
  // A what-if call cannot ask for an approval while turning coverage information off: the determination
  // travels only in the coverage-information (found-35), so there is nothing it could be given in.
  if (raw['coverage-info'] === false && raw['unsolicited-determ'] === true) {
    problems.push({ option: 'unsolicited-determ', text: 'unsolicited-determ true has no effect while coverage-info is false: no coverage information, and so no determination, was returned' });
  }
  return { values, problems };
}
