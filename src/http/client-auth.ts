import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { TrustedClient } from '../config.js';
import { LocalJtiRegistry, type JtiRegistry } from './jti-registry.js';

export { ACCEPTABLE_ALGORITHMS, type TrustedClient } from '../config.js';

/** Why a token was refused; logged, never sent to the caller (CDS Hooks §Trusting CDS Clients). */
export type AuthFailure =
  | 'missing-token'
  | 'malformed-token'
  | 'algorithm-not-allowed'
  | 'missing-kid'
  | 'wrong-typ'
  | 'untrusted-issuer'
  | 'jku-not-allowlisted'
  | 'tenant-mismatch'
  | 'iat-in-future'
  | 'missing-jti'
  | 'replayed-jti'
  | 'invalid-signature-or-claims'
  | 'keys-unavailable';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  /**
   * @param failure - the reason, for the log
   * @param issuer - the claimed issuer, when one could be read (not a secret, helps operators)
   */
  constructor(
    readonly failure: AuthFailure,
    readonly issuer?: string,
  ) {
    super(`client authentication failed: ${failure}`);
  }
}

export interface VerifierOptions {
  readonly clients: readonly TrustedClient[];
  /** Allowed JWS algorithms (default ES384 and RS384). */
  readonly algorithms: readonly string[];
  /** Epoch ms clock. */
  readonly clock?: () => number;
  /** Seconds of clock skew tolerated on exp and iat. */
  readonly clockToleranceSeconds?: number;
  /** Where accepted jtis are remembered: this process alone by default, the record store across replicas in the service. */
  readonly jtis?: JtiRegistry;
}

/**
 * Verifies the bearer JWT a CDS client sends on every call (CDS Hooks 2.0.1 §Trusting CDS Clients): an
 * allowed asymmetric algorithm, a `kid`, a trusted `iss` whose JWKS (fetched only from the configured URL,
 * cached, refetched on an unknown `kid` at most every 30 s) verifies the signature, `aud` equal to the URL
 * called, unexpired, not issued in the future, and a `jti` not seen before within the token's lifetime.
 */
export class ClientVerifier {
  private readonly byIssuer: ReadonlyMap<string, TrustedClient>;
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  private readonly jtis: JtiRegistry;
  private readonly clock: () => number;
  private readonly tolerance: number;

  /**
   * @param options - trusted clients, algorithms, clock
   */
  constructor(private readonly options: VerifierOptions) {
    this.byIssuer = new Map(options.clients.map((c) => [c.iss, c]));
    this.clock = options.clock ?? Date.now;
    this.tolerance = options.clockToleranceSeconds ?? 5;
    this.jtis = options.jtis ?? new LocalJtiRegistry();
  }

  /**
   * Verifies the Authorization header for a call to `audience`.
   * @param authorization - the raw header
   * @param audience - the exact URL the client called
   * @returns the verified claims
   */
  async verify(authorization: string | undefined, audience: string): Promise<JWTPayload> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) {
      throw new AuthError('missing-token');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw new AuthError('malformed-token');
    }
    const issuer = typeof claims.iss === 'string' ? claims.iss : undefined;
    if (typeof header.alg !== 'string' || !this.options.algorithms.includes(header.alg)) {
      throw new AuthError('algorithm-not-allowed', issuer);
    }
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw new AuthError('missing-kid', issuer);
    }
    if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') {
      throw new AuthError('wrong-typ', issuer);
    }
    const client = issuer !== undefined ? this.byIssuer.get(issuer) : undefined;
    if (!client) {
      throw new AuthError('untrusted-issuer', issuer);
    }
    // The token may say where its keys are, but keys only ever come from the allowlisted URL.
    if (header.jku !== undefined && header.jku !== client.jku) {
      throw new AuthError('jku-not-allowlisted', issuer);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet(client), {
        algorithms: [...this.options.algorithms],
        issuer: client.iss,
        audience,
        clockTolerance: this.tolerance,
        currentDate: new Date(this.clock()),
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new AuthError(code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' ? 'keys-unavailable' : 'invalid-signature-or-claims', issuer);
    }
    const now = Math.floor(this.clock() / 1000);
    if (typeof payload.iat !== 'number' || payload.iat > now + this.tolerance) {
      throw new AuthError('iat-in-future', issuer);
    }
    if (client.tenant !== undefined && payload.tenant !== client.tenant) {
      throw new AuthError('tenant-mismatch', issuer);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') {
      throw new AuthError('missing-jti', issuer);
    }
    // Checked last, once everything else holds: a token that fails any other check never spends its jti.
    const exp = typeof payload.exp === 'number' ? payload.exp : now;
    if (!(await this.jtis.claim(client.iss, payload.jti, (exp + this.tolerance) * 1000, this.clock()))) {
      throw new AuthError('replayed-jti', issuer);
    }
    return payload;
  }

  private keySet(client: TrustedClient): ReturnType<typeof createRemoteJWKSet> {
    let set = this.keySets.get(client.jku);
    if (!set) {
      set = createRemoteJWKSet(new URL(client.jku), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 2_000 });
      this.keySets.set(client.jku, set);
    }
    return set;
  }
}
