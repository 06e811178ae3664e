import { createHmac, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { base64url } from 'jose';
import { loadConfig } from '../../src/config.js';
import type { LogFields, Logger } from '../../src/logger.js';
import { startEhrIdentity, type EhrIdentity } from '../support/ehr-identity.js';
import { testApp } from '../support/service.js';

const BASE = 'https://cds.example.org';
const DISCOVERY = `${BASE}/cds-services`;
let ehr: EhrIdentity;
let app: Express;
const logged: LogFields[] = [];
const capture: Logger = { info: () => undefined, error: () => undefined, warn: (fields) => void logged.push(fields) };

beforeAll(async () => {
  ehr = await startEhrIdentity();
  const config = loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku }]), CDS_PUBLIC_URL: BASE });
  app = testApp(config, capture);
});
afterAll(async () => {
  await ehr.close();
});

const discover = (token?: string): request.Test => {
  const r = request(app).get('/cds-services');
  return token === undefined ? r : r.set('authorization', `Bearer ${token}`);
};

function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const part = (x: unknown): string => base64url.encode(JSON.stringify(x));
  return `${part(header)}.${part(claims)}.`;
}

describe('a CDS client is trusted only with a valid JWT (CDS Hooks §Trusting CDS Clients)', () => {
  test('a valid ES384 token from a trusted EHR opens discovery', async () => {
    expect((await discover(await ehr.sign(DISCOVERY))).status).toBe(200);
  });
  test('a valid RS384 token opens discovery', async () => {
    expect((await discover(await ehr.sign(DISCOVERY, { alg: 'RS384' }))).status).toBe(200);
  });
  test('the hook and feedback endpoints need the token too', async () => {
    expect((await request(app).post('/cds-services/cohere-lumbar-mri').send({})).status).toBe(401);
    expect((await request(app).post('/cds-services/cohere-lumbar-mri/feedback').send({})).status).toBe(401);
  });
  test('health and readiness need no token', async () => {
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/readyz')).status).toBe(200);
  });

  const refused: [string, string, () => Promise<string | undefined>][] = [
    ['no token', 'missing-token', async () => undefined],
    ['a garbage token', 'malformed-token', async () => 'not.a.jwt'],
    ['a token for another URL (aud)', 'invalid-signature-or-claims', () => ehr.sign(`${BASE}/cds-services/other`)],
    ['an expired token', 'invalid-signature-or-claims', () => ehr.sign(DISCOVERY, { expiresInSeconds: -60 })],
    ['a token issued in the future', 'iat-in-future', () => ehr.sign(DISCOVERY, { issuedAtOffsetSeconds: 3600, expiresInSeconds: 7200 })],
    ['an untrusted issuer', 'untrusted-issuer', () => ehr.sign(DISCOVERY, { iss: 'https://evil.example.org' })],
    ['a jku off the allowlist', 'jku-not-allowlisted', () => ehr.sign(DISCOVERY, { header: { jku: 'https://evil.example.org/jwks.json' } })],
    ['a token without kid', 'missing-kid', () => ehr.sign(DISCOVERY, { omitKid: true })],
    [
      'alg none',
      'algorithm-not-allowed',
      async () => unsigned({ alg: 'none', typ: 'JWT', kid: 'x' }, { iss: ehr.iss, aud: DISCOVERY, exp: Math.floor(Date.now() / 1000) + 300, iat: Math.floor(Date.now() / 1000), jti: randomUUID() }),
    ],
    [
      'HS256 signed with the public key as the secret',
      'algorithm-not-allowed',
      async () => {
        const jwk = ehr.publicJwk('ES384');
        const now = Math.floor(Date.now() / 1000);
        const head = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwk.kid }));
        const body = base64url.encode(JSON.stringify({ iss: ehr.iss, aud: DISCOVERY, exp: now + 300, iat: now, jti: randomUUID() }));
        const sig = createHmac('sha256', JSON.stringify(jwk)).update(`${head}.${body}`).digest('base64url');
        return `${head}.${body}.${sig}`;
      },
    ],
  ];
  test.each(refused)('%s is refused with a bare 401 (logged as %s)', async (_name, reason, make) => {
    logged.length = 0;
    const res = await discover(await make());
    expect(logged.find((l) => l.event === 'unauthorized')?.reason).toBe(reason);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.stringify(res.body)).not.toMatch(/aud|exp|iat|jku|kid|issuer|signature/i);
  });

  test('a replayed jti is refused for the token lifetime', async () => {
    const token = await ehr.sign(DISCOVERY, { jti: 'once-only' });
    expect((await discover(token)).status).toBe(200);
    logged.length = 0;
    expect((await discover(token)).status).toBe(401);
    expect(logged.find((l) => l.event === 'unauthorized')?.reason).toBe('replayed-jti');
  });

  test('the key set is fetched once and cached; tokens with unknown kids cannot force refetches', async () => {
    const fresh = await startEhrIdentity();
    const own = testApp(loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: fresh.iss, jku: fresh.jku }]), CDS_PUBLIC_URL: BASE }));
    for (let i = 0; i < 5; i++) {
      expect((await request(own).get('/cds-services').set('authorization', `Bearer ${await fresh.sign(DISCOVERY)}`)).status).toBe(200);
    }
    for (let i = 0; i < 5; i++) {
      const forged = await fresh.sign(DISCOVERY, { unknownKid: `rotated-${i}` });
      expect((await request(own).get('/cds-services').set('authorization', `Bearer ${forged}`)).status).toBe(401);
    }
    expect(fresh.jwksFetches()).toBe(1);
    await fresh.close();
  });

  test('a tenant bound in configuration must match the token', async () => {
    const bound = testApp(loadConfig({ CDS_TRUSTED_CLIENTS: JSON.stringify([{ iss: ehr.iss, jku: ehr.jku, tenant: 'north' }]), CDS_PUBLIC_URL: BASE }));
    const ok = await request(bound).get('/cds-services').set('authorization', `Bearer ${await ehr.sign(DISCOVERY, { claims: { tenant: 'north' } })}`);
    const wrong = await request(bound).get('/cds-services').set('authorization', `Bearer ${await ehr.sign(DISCOVERY, { claims: { tenant: 'south' } })}`);
    expect([ok.status, wrong.status]).toEqual([200, 401]);
  });
});

describe('configuration of trust', () => {
  test('in production, no trusted clients and no CDS_AUTH=off refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CDS_TRUSTED_CLIENTS/);
  });
  test('CDS_AUTH=off turns verification off with a reason to log', () => {
    const config = loadConfig({ NODE_ENV: 'production', CDS_AUTH: 'off', CDS_REVIEWER_API: 'off' });
    expect(config.auth).toBe('off');
    expect(config.authOffReason).toMatch(/local sandbox/);
  });
  test('HMAC algorithms cannot be configured', () => {
    expect(() => loadConfig({ CDS_JWT_ALGORITHMS: 'ES384,HS256' })).toThrow(/HMAC/);
  });
  test('the audience defaults to http://HOST:PORT', () => {
    expect(loadConfig({ HOST: '127.0.0.1', PORT: '9000' }).audienceBase).toBe('http://127.0.0.1:9000');
  });
});

describe('CORS for browser clients such as the CDS Hooks sandbox', () => {
  test('a preflight from any origin is answered with the allowed headers, without a token', async () => {
    const res = await request(app).options('/cds-services/cohere-lumbar-mri').set('origin', 'https://sandbox.cds-hooks.org').set('access-control-request-method', 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
  });
  test('configured origins are the only ones allowed', async () => {
    const strict = testApp({ ...loadConfig({}), corsOrigins: ['https://ehr.example.org'] });
    const other = await request(strict).options('/cds-services').set('origin', 'https://other.example.org');
    const allowed = await request(strict).options('/cds-services').set('origin', 'https://ehr.example.org');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ehr.example.org');
  });
});
