import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { DCLinter } from 'dclint';
import { loadConfig } from '../../src/config.js';
import { compose, composePath, composeText, deployDir, interpolate, interpolatedVariables, readDotEnv, type ComposeService } from './support/compose.js';
import { parseQuantity, readEnvFile } from './support/kustomize.js';
import { repoRoot, settableKeys } from './support/service-env.js';

/**
 * The Compose specification's JSON schema as bundled by dclint (the Compose spec's own schema file, kept in the
 * package; nothing is fetched). dclint also lints the file against its best-practice rules below.
 */
const composeSchemaPath = join(dirname(createRequire(import.meta.url).resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
// The file names its draft as "https://json-schema.org/draft-07/schema", a spelling ajv does not register; the
// schema is draft-07, ajv's default, so the declaration is dropped rather than fetched.
const { $schema: _draft, ...composeSchema } = JSON.parse(readFileSync(composeSchemaPath, 'utf8')) as Record<string, unknown>;

function validateCompose(document: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(composeSchema);
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

const dotenv = readDotEnv(join(deployDir, '.env.example'));
const services = compose.services;
const app = services.necessity as ComposeService;
const postgres = services.postgres as ComposeService;
const lb = services.lb as ComposeService;
const settings = readEnvFile(join(deployDir, 'kubernetes', 'settings.env'));
const nginx = readFileSync(join(deployDir, 'nginx', 'necessity.conf'), 'utf8');

/** The service's environment as compose assembles it: env_file first, `environment` over it, interpolated from .env. */
function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of service.env_file ?? []) {
    Object.assign(env, readEnvFile(join(deployDir, file)));
  }
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    env[key] = interpolate(String(value), dotenv);
  }
  return env;
}

describe('the compose file is a valid Compose application', () => {
  test('it matches the Compose specification schema', () => {
    expect(validateCompose(compose)).toEqual([]);
  });

  test('the schema check has teeth: an unknown dependency condition and a misspelt service key are refused', () => {
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    (broken.services.necessity as Record<string, unknown>).depends_on = { postgres: { condition: 'healthy' } };
    (broken.services.postgres as Record<string, unknown>).helthcheck = { test: ['CMD', 'true'] };
    const errors = validateCompose(broken).join('\n');
    expect(errors).toMatch(/depends_on/);
    expect(errors).toMatch(/additional properties/);
  });

  test('dclint finds nothing to report with its default rules', () => {
    const linter = new DCLinter({ rules: {}, exclude: [], debug: false, quiet: true });
    // dclint's declaration files import without extensions, which NodeNext does not resolve: the shape is named here.
    const [result] = linter.lintFiles([composePath], false) as { messages: { rule: string; message: string }[] }[];
    expect(result?.messages.map((m) => `${m.rule}: ${m.message}`)).toEqual([]);
  });

  test('every dependency is a service with a healthcheck, waited for until healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, dependency] of Object.entries(service.depends_on ?? {})) {
        expect({ name, target, exists: target in services, condition: dependency.condition }).toEqual({
          name,
          target,
          exists: true,
          condition: 'service_healthy',
        });
        expect(services[target]?.healthcheck?.test.length).toBeGreaterThan(0);
      }
    }
  });

  test('every service has a healthcheck', () => {
    expect(Object.entries(services).filter(([, s]) => !s.healthcheck).map(([n]) => n)).toEqual([]);
  });

  test('named volumes, secrets and configs that services use are declared, and their files exist', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes ?? {})).toContain(source);
        }
      }
      for (const secret of service.secrets ?? []) {
        expect(Object.keys(compose.secrets ?? {})).toContain(secret);
      }
      for (const config of service.configs ?? []) {
        const file = compose.configs?.[config.source]?.file;
        expect(file && existsSync(join(deployDir, file))).toBe(true);
      }
      for (const file of service.env_file ?? []) {
        expect(existsSync(join(deployDir, file))).toBe(true);
      }
    }
    expect(postgres.volumes).toEqual(['pgdata:/var/lib/postgresql/data']);
  });

  test('the image is built from the repository Dockerfile', () => {
    const context = join(deployDir, app.build?.context ?? '');
    expect(existsSync(join(context, app.build?.dockerfile ?? 'Dockerfile'))).toBe(true);
    expect(context).toBe(repoRoot);
  });
});

describe('N replicas share one PostgreSQL behind one port', () => {
  test('the service runs two replicas or more, has no container name and publishes no port (either would forbid a second replica)', () => {
    expect(Number(interpolate(String(app.deploy?.replicas ?? 1), dotenv))).toBeGreaterThanOrEqual(2);
    expect(Number(interpolate(String(app.deploy?.replicas ?? 1), {}))).toBeGreaterThanOrEqual(2);
    expect(app.container_name).toBeUndefined();
    expect(app.ports).toBeUndefined();
    expect(app.expose).toEqual([settings.PORT]);
  });

  test('DATABASE_URL points at the postgres service, its user, database and password', () => {
    const url = new URL(serviceEnvironment(app).DATABASE_URL ?? '');
    const pg = serviceEnvironment(postgres);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.username).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
  });

  test('PostgreSQL is the official 15 image, checked with pg_isready, its data on a named volume, no port published', () => {
    expect(postgres.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(postgres.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(postgres.ports).toBeUndefined();
  });

  test('the load balancer publishes one port, on loopback unless told otherwise, and forwards to the service port', () => {
    expect(lb.ports).toHaveLength(1);
    expect(interpolate(lb.ports?.[0] ?? '', {})).toBe('127.0.0.1:8080:8080');
    expect(nginx).toMatch(/^\s*listen 8080;/m);
    const upstream = /server ([a-z0-9_-]+):([0-9]+) resolve max_fails=0;/.exec(nginx);
    expect(upstream?.[1]).toBe('necessity');
    expect(upstream?.[2]).toBe(settings.PORT);
  });

  test('the load balancer accepts every body the service accepts (CDS_BODY_LIMIT), so nginx never refuses a hook the service would take', () => {
    const limit = /client_max_body_size ([0-9]+)m;/.exec(nginx);
    expect(Number(limit?.[1]) * 2 ** 20).toBeGreaterThanOrEqual(parseQuantity((settings.CDS_BODY_LIMIT ?? '').replace(/mb$/i, 'Mi')));
  });

  test('the load balancer retries a refused connection on another replica but never re-sends a hook already sent', () => {
    expect(nginx).toMatch(/proxy_next_upstream error timeout;/);
    expect(nginx).not.toMatch(/non_idempotent/);
  });

  test('the load balancer opens a new connection per request, so a draining replica never drops a hook sent on an idle one', () => {
    expect(nginx).not.toMatch(/^\s*keepalive\s/m);
  });

  test('the service healthcheck asks /readyz on the service port', () => {
    expect(app.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${settings.PORT}/readyz`);
  });

  test('stopping a replica leaves time to drain requests (10 s) and flush the record queue (15 s)', () => {
    expect(parseInt(app.stop_grace_period ?? '0', 10)).toBeGreaterThanOrEqual(25);
  });

  test('the service container runs read-only with no capabilities', () => {
    expect(app.read_only).toBe(true);
    expect(app.cap_drop).toEqual(['ALL']);
  });
});

describe('settings and secrets of the compose deployment', () => {
  test('every variable set for the service is one the service (or Node.js) reads', () => {
    const allowed = settableKeys();
    expect(Object.keys(serviceEnvironment(app)).filter((k) => !allowed.has(k))).toEqual([]);
  });

  test('credentials reach the service as secret files, never as values in its environment', () => {
    const env = serviceEnvironment(app);
    for (const key of ['CDS_TRUSTED_CLIENTS', 'CDS_REVIEWER_TOKENS']) {
      const secret = /^\/run\/secrets\/([a-z_]+)$/.exec(env[key] ?? '')?.[1];
      expect({ key, secret: secret !== undefined && (app.secrets ?? []).includes(secret) }).toEqual({ key, secret: true });
    }
  });

  test('every variable compose interpolates is in .env.example, and the required ones are placeholders there', () => {
    const used = interpolatedVariables(composeText);
    expect(used.filter((v) => !(v.name in dotenv)).map((v) => v.name)).toEqual([]);
    for (const v of used.filter((u) => u.kind === 'required')) {
      expect(dotenv[v.name]).toMatch(/CHANGE-ME/);
    }
    for (const secret of Object.values(compose.secrets ?? {})) {
      expect(secret.environment && secret.environment in dotenv).toBe(true);
    }
  });

  test('a missing POSTGRES_PASSWORD stops compose rather than starting an unprotected database', () => {
    expect(() => interpolate(postgres.environment?.POSTGRES_PASSWORD ?? '', {})).toThrow(/POSTGRES_PASSWORD/);
  });

  test("with .env.example's values the service's own configuration check passes in production", () => {
    const dir = mkdtempSync(join(tmpdir(), 'necessity-compose-'));
    try {
      // Stand-ins for /run/secrets: compose writes each secret's environment variable to such a file.
      const env = serviceEnvironment(app);
      for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
        writeFileSync(join(dir, name), dotenv[secret.environment ?? ''] ?? '');
      }
      const local = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/^\/run\/secrets\//, `${dir}/`)]));
      const config = loadConfig({ ...local, NODE_ENV: 'production' });
      expect(config.auth).toBe('on');
      expect(config.trustedClients.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deploy/.env, where the real values go, is ignored by git and kept out of the image', () => {
    expect(readFileSync(join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('deploy/.env');
    expect(readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.env', '**/.env', 'deploy']));
  });
});
