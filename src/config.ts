import { existsSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

/** A CDS client this service trusts: its issuer and the one JWKS URL its keys are fetched from. */
export interface TrustedClient {
  readonly iss: string;
  readonly jku: string;
  /** When set, the token's `tenant` claim must equal it. */
  readonly tenant?: string;
}

/** The asymmetric algorithms CDS Hooks 2.0.1 names; `none` and HMAC are never accepted. */
export const ACCEPTABLE_ALGORITHMS = ['ES384', 'RS384', 'ES256', 'RS256', 'ES512', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

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
  /**
   * Client JWT verification (CDS_AUTH). 'on' when CDS_TRUSTED_CLIENTS is set; CDS_AUTH=off turns it off for
   * local sandbox use. Without trusted clients the service refuses to start when NODE_ENV=production or
   * CDS_AUTH=on, and runs unverified (with a warning) otherwise.
   */
  readonly auth: 'on' | 'off';
  /** Why auth is off, for the start-up warning. */
  readonly authOffReason?: string;
  /** CDS_TRUSTED_CLIENTS: a JSON array, or the path of a JSON file, of { iss, jku, tenant? }. */
  readonly trustedClients: readonly TrustedClient[];
  /** CDS_JWT_ALGORITHMS: comma-separated asymmetric algorithms accepted. Default ES384,RS384. */
  readonly jwtAlgorithms: readonly string[];
  /** The base URL that `aud` must name: CDS_PUBLIC_URL, else http://HOST:PORT. */
  readonly audienceBase: string;
  /** CDS_CORS_ORIGINS: comma-separated origins allowed by CORS, or * (default: trust rests on the JWT). */
  readonly corsOrigins: '*' | readonly string[];
  /**
   * Plain http is refused where a token or a key travels: a hook call's `fhirServer` (400) and a trusted
   * client's `jku` (the service does not start). On when NODE_ENV=production, unless CDS_ALLOW_INSECURE_HTTP=on
   * (a closed network where http is acceptable).
   */
  readonly requireHttps: boolean;
  /**
   * CDS_PLANS_FILE: the JSON file of the health plans this service reviews (SPEC §7.1). Default: the shipped
   * policy/plans.json, which holds the evaluation's example plan.
   */
  readonly plansFile?: string;
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
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const trustedClients = readTrustedClients(env.CDS_TRUSTED_CLIENTS);
  const authSetting = (env.CDS_AUTH ?? '').toLowerCase();
  if (!['', 'on', 'off'].includes(authSetting)) {
    throw new ConfigError('CDS_AUTH must be on or off');
  }
  let auth: 'on' | 'off' = 'on';
  let authOffReason: string | undefined;
  if (authSetting === 'off') {
    auth = 'off';
    authOffReason = 'CDS_AUTH=off: client JWTs are not verified (local sandbox use only)';
  } else if (trustedClients.length === 0) {
    if (authSetting === 'on' || env.NODE_ENV === 'production') {
      throw new ConfigError('client authentication is on but CDS_TRUSTED_CLIENTS is empty: configure trusted clients, or set CDS_AUTH=off for local use');
    }
    auth = 'off';
    authOffReason = 'no CDS_TRUSTED_CLIENTS configured: client JWTs are not verified (development default; production refuses to start)';
  }
  const jwtAlgorithms = (env.CDS_JWT_ALGORITHMS || 'ES384,RS384').split(',').map((a) => a.trim()).filter(Boolean);
  for (const alg of jwtAlgorithms) {
    if (!(ACCEPTABLE_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError(`CDS_JWT_ALGORITHMS: ${alg} is not an asymmetric JWS algorithm (none and HMAC are never accepted)`);
    }
  }
  const insecure = (env.CDS_ALLOW_INSECURE_HTTP ?? '').toLowerCase();
  if (!['', 'on', 'off'].includes(insecure)) {
    throw new ConfigError('CDS_ALLOW_INSECURE_HTTP must be on or off');
  }
  const requireHttps = env.NODE_ENV === 'production' && insecure !== 'on';
  if (requireHttps) {
    // Keys fetched over http can be swapped on the way: every client token would then verify (issue #12).
    const plain = trustedClients.find((c) => !/^https:\/\//i.test(c.jku));
    if (plain) {
      throw new ConfigError(
        `CDS_TRUSTED_CLIENTS: the jku of ${plain.iss.slice(0, 200)} is plain http; in production keys are fetched only over https (CDS_ALLOW_INSECURE_HTTP=on allows http on a closed network)`,
      );
    }
  }
  const cors = (env.CDS_CORS_ORIGINS ?? '*').trim();
  return {
    port,
    host,
    auth,
    ...(authOffReason !== undefined ? { authOffReason } : {}),
    trustedClients,
    jwtAlgorithms,
    audienceBase: publicUrl || `http://${host}:${port}`,
    corsOrigins: cors === '*' || cors === '' ? '*' : cors.split(',').map((o) => o.trim()).filter(Boolean),
    ...(publicUrl ? { publicUrl } : {}),
    logLevel: env.LOG_LEVEL || 'info',
    fhirTimeoutMs: integer(env, 'CDS_FHIR_TIMEOUT_MS', 4000, 100, 60000),
    fhirMaxPages: integer(env, 'CDS_FHIR_MAX_PAGES', 100, 1, 10000),
    bodyLimit: env.CDS_BODY_LIMIT || '5mb',
    mirrorSystemActions: (env.CDS_MIRROR_SYSTEM_ACTIONS ?? '').toLowerCase() === 'on',
    requireHttps,
    ...(env.CDS_PLANS_FILE ? { plansFile: env.CDS_PLANS_FILE } : {}),
  };
}

const clientsSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['iss', 'jku'],
    properties: {
      iss: { type: 'string', minLength: 1 },
      jku: { type: 'string', pattern: '^https?://' },
      tenant: { type: 'string', minLength: 1 },
    },
  },
};

/** CDS_TRUSTED_CLIENTS as inline JSON or the path of a JSON file. */
function readTrustedClients(raw: string | undefined): TrustedClient[] {
  if (raw === undefined || raw.trim() === '') {
    return [];
  }
  const text = raw.trim().startsWith('[') ? raw : existsSync(raw) ? readFileSync(raw, 'utf8') : undefined;
  if (text === undefined) {
    throw new ConfigError('CDS_TRUSTED_CLIENTS must be a JSON array or the path of a JSON file');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('CDS_TRUSTED_CLIENTS is not valid JSON');
  }
  const ajv = new Ajv({ strict: false });
  if (!ajv.validate(clientsSchema, parsed)) {
    throw new ConfigError(`CDS_TRUSTED_CLIENTS: ${ajv.errorsText()}`);
  }
  return parsed as TrustedClient[];
}
