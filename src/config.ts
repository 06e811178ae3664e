import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
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
  /** The durable record (issue #13): which database, how long records are kept, the write queue. */
  readonly store: StoreConfig;
  /** The reviewers' audit API (issue #13 §3), outside the CDS Hooks surface. */
  readonly reviewer: ReviewerConfig;
}

export interface StoreConfig {
  /**
   * DATABASE_URL: a postgres:// URL; without it the embedded PGlite under dataDir. It may hold a password,
   * so it is kept as a Secret: logging or serialising the configuration prints "[redacted]".
   */
  readonly databaseUrl?: Secret;
  /** NECESSITY_DATA_DIR: where the embedded database lives when DATABASE_URL is not set. Default ./data. */
  readonly dataDir: string;
  /** CDS_RECORD_RETENTION_DAYS: days a call's record (and its feedback) is kept. Default 3650. */
  readonly retentionDays: number;
  /** CDS_RECORD_QUEUE_MAX: records held in memory at most while the database is unreachable. Default 10000. */
  readonly queueMax: number;
  /** CDS_RECORD_WRITE_TIMEOUT_MS: how long a hook waits for its record's commit before answering anyway. Default 250. */
  readonly writeTimeoutMs: number;
}

export interface ReviewerConfig {
  /**
   * 'on' serves /audit behind the reviewer tokens. CDS_REVIEWER_API=off does not serve it at all.
   * Production (NODE_ENV=production) refuses to start with the API on and no token; elsewhere the API is
   * on and refuses every caller until tokens are configured.
   */
  readonly api: 'on' | 'off';
  /** SHA-256 of each CDS_REVIEWER_TOKENS token; the tokens themselves are not kept. */
  readonly tokenHashes: readonly Buffer[];
  /** Why reviewers cannot get in, for the start-up warning. */
  readonly warning?: string;
}

/** A configuration value that must never reach a log line or a serialised config (a password in a URL). */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value, for the one place that needs it (the database driver). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** The shortest reviewer token accepted: a bearer secret must not be guessable. */
export const MIN_REVIEWER_TOKEN_LENGTH = 32;

/** The SHA-256 of a token, as reviewer tokens are kept and compared. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
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
    store: readStoreConfig(env),
    reviewer: readReviewerConfig(env),
  };
}

function readStoreConfig(env: NodeJS.ProcessEnv): StoreConfig {
  const url = env.DATABASE_URL?.trim();
  // The message never repeats the URL: it may hold a password.
  if (url !== undefined && url !== '' && !/^postgres(ql)?:\/\/\S+$/.test(url)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return {
    ...(url ? { databaseUrl: new Secret(url) } : {}),
    dataDir: env.NECESSITY_DATA_DIR || './data',
    retentionDays: integer(env, 'CDS_RECORD_RETENTION_DAYS', 3650, 1, 36500),
    queueMax: integer(env, 'CDS_RECORD_QUEUE_MAX', 10_000, 1, 1_000_000),
    writeTimeoutMs: integer(env, 'CDS_RECORD_WRITE_TIMEOUT_MS', 250, 1, 60_000),
  };
}

/**
 * CDS_REVIEWER_TOKENS: comma- or whitespace-separated tokens, or the path of a file holding them. Each is
 * kept only as its SHA-256 hash (compared with timingSafeEqual by src/http/reviewer-auth.ts).
 */
function readReviewerConfig(env: NodeJS.ProcessEnv): ReviewerConfig {
  const setting = (env.CDS_REVIEWER_API ?? '').toLowerCase();
  if (!['', 'on', 'off'].includes(setting)) {
    throw new ConfigError('CDS_REVIEWER_API must be on or off');
  }
  if (setting === 'off') {
    return { api: 'off', tokenHashes: [] };
  }
  const raw = (env.CDS_REVIEWER_TOKENS ?? '').trim();
  const text = raw !== '' && !/[\s,]/.test(raw) && existsSync(raw) ? readFileSync(raw, 'utf8') : raw;
  const tokens = text.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.some((t) => t.length < MIN_REVIEWER_TOKEN_LENGTH)) {
    throw new ConfigError(`CDS_REVIEWER_TOKENS: every token must be at least ${MIN_REVIEWER_TOKEN_LENGTH} characters`);
  }
  if (tokens.length === 0) {
    if (env.NODE_ENV === 'production' || setting === 'on') {
      throw new ConfigError('the audit API is on but CDS_REVIEWER_TOKENS is empty: configure reviewer tokens, or set CDS_REVIEWER_API=off');
    }
    return { api: 'on', tokenHashes: [], warning: 'no CDS_REVIEWER_TOKENS configured: the audit API refuses every caller (production refuses to start)' };
  }
  return { api: 'on', tokenHashes: tokens.map(tokenHash) };
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
