/**
 * Configuration from the environment. Every key is documented here and in the README.
 */
export interface Config {
  /** PORT: TCP port to listen on. Default 8080. */
  readonly port: number;
  /** HOST: interface to bind. Default 127.0.0.1 (put a proxy or container mapping in front to expose it). */
  readonly host: string;
  /** CDS_PUBLIC_URL: base URL clients call; used for links on cards. Default: derived from each request's Host. */
  readonly publicUrl?: string;
  /** LOG_LEVEL: pino level. Default info. */
  readonly logLevel: string;
  /** CDS_FHIR_TIMEOUT_MS: one deadline for all FHIR queries of a request. Default 4000. */
  readonly fhirTimeoutMs: number;
  /** CDS_FHIR_MAX_PAGES: pages followed per query at most. Default 100. */
  readonly fhirMaxPages: number;
  /** CDS_BODY_LIMIT: largest request body accepted. Default 5mb. */
  readonly bodyLimit: string;
  /** CDS_MIRROR_SYSTEM_ACTIONS=on: also put systemActions in response.extension.systemActions (older clients). */
  readonly mirrorSystemActions: boolean;
}

/** A configuration value is wrong; the service refuses to start rather than run misconfigured. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Reads the configuration.
 * @param env - the environment (process.env by default)
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // fhir-kit-client's debug output prints request headers, the EHR's bearer token among them.
  if (/fhir-kit-client|^\*$|,\*/.test(env.DEBUG ?? '')) {
    throw new ConfigError('DEBUG must not enable fhir-kit-client: its debug output prints bearer tokens');
  }
  const publicUrl = env.CDS_PUBLIC_URL?.replace(/\/+$/, '');
  if (publicUrl !== undefined && publicUrl !== '' && !/^https?:\/\/[^\s]+$/.test(publicUrl)) {
    throw new ConfigError('CDS_PUBLIC_URL must be an http(s) URL');
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    ...(publicUrl ? { publicUrl } : {}),
    logLevel: env.LOG_LEVEL || 'info',
    fhirTimeoutMs: integer(env, 'CDS_FHIR_TIMEOUT_MS', 4000, 100, 60000),
    fhirMaxPages: integer(env, 'CDS_FHIR_MAX_PAGES', 100, 1, 10000),
    bodyLimit: env.CDS_BODY_LIMIT || '5mb',
    mirrorSystemActions: (env.CDS_MIRROR_SYSTEM_ACTIONS ?? '').toLowerCase() === 'on',
  };
}
