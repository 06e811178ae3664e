import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** A CDS client's signing identity: key pairs, and their JWKS served on loopback. */
export interface EhrIdentity {
  readonly iss: string;
  readonly jku: string;
  /** Signs a CDS Hooks client JWT for `aud`; options let tests break it on purpose. */
  sign(aud: string, options?: SignOptions): Promise<string>;
  readonly publicJwk: (alg: 'ES384' | 'RS384') => JWK;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: () => number;
  close(): Promise<void>;
}

export interface SignOptions {
  alg?: 'ES384' | 'RS384';
  jti?: string;
  iss?: string;
  expiresInSeconds?: number;
  issuedAtOffsetSeconds?: number;
  header?: Record<string, unknown>;
  omitKid?: boolean;
  /** Sign with a key the JWKS does not publish, under this kid. */
  unknownKid?: string;
  claims?: Record<string, unknown>;
}

/** Starts an EHR identity with an ES384 and an RS384 key. */
export async function startEhrIdentity(): Promise<EhrIdentity> {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  for (const alg of ['ES384', 'RS384'] as const) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.set(alg, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: `${alg}-${randomUUID()}`, alg, use: 'sig' } });
  }
  let fetches = 0;
  const app = express();
  app.get('/.well-known/jwks.json', (_req, res) => {
    fetches++;
    res.json({ keys: [...keys.values()].map((k) => k.jwk) });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const iss = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jku = `${iss}/.well-known/jwks.json`;
  return {
    iss,
    jku,
    publicJwk: (alg) => keys.get(alg)?.jwk ?? {},
    jwksFetches: () => fetches,
    async sign(aud, o = {}) {
      const alg = o.alg ?? 'ES384';
      const key = keys.get(alg);
      if (!key) {
        throw new Error(`no ${alg} key`);
      }
      const now = Math.floor(Date.now() / 1000);
      const signingKey = o.unknownKid ? (await generateKeyPair(alg)).privateKey : key.privateKey;
      const kid = o.unknownKid ?? key.jwk.kid;
      const header = { alg, typ: 'JWT', jku, ...(o.omitKid ? {} : { kid }), ...o.header };
      return new SignJWT({ ...o.claims })
        .setProtectedHeader(header as { alg: string })
        .setIssuer(o.iss ?? iss)
        .setAudience(aud)
        .setIssuedAt(now + (o.issuedAtOffsetSeconds ?? 0))
        .setExpirationTime(now + (o.expiresInSeconds ?? 300))
        .setJti(o.jti ?? randomUUID())
        .sign(signingKey);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
