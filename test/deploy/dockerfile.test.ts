import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile } from './support/kustomize.js';
import { repoRoot } from './support/service-env.js';

/**
 * No Docker engine runs where this project is built, so the image is checked by reading its Dockerfile: what it
 * copies exists and is not excluded from the build context, and the runtime facts the manifests rely on hold.
 */
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (line.startsWith('FROM ')) {
    acc.push([]);
  }
  acc.at(-1)?.push(line);
  return acc;
}, []);
const runtime = stages.at(-1) ?? [];
const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; main: string };
const settings = readEnvFile(join(repoRoot, 'deploy', 'kubernetes', 'settings.env'));

describe('the image the manifests run', () => {
  test('everything the Dockerfile copies from the repository exists and is inside the build context', () => {
    const sources = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(repoRoot, source)), ignored: ignored.includes(source) }).toEqual({ source, exists: true, ignored: false });
    }
  });

  test('the runtime stage runs as node in production, binding all interfaces on the port the deployments use', () => {
    expect(runtime).toContain('USER node');
    const env = runtime.filter((l) => l.startsWith('ENV ')).join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(runtime).toContain(`EXPOSE ${settings.PORT}`);
  });

  test('it starts the compiled server with node itself (so SIGTERM drains), and checks /healthz', () => {
    expect(runtime).toContain(`CMD ["node", "${pkg.main}"]`);
    expect(pkg.main).toBe('dist/src/server.js');
    expect(existsSync(join(repoRoot, 'src', 'server.ts'))).toBe(true);
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toContain('/healthz');
  });

  test('it carries OCI labels naming the service and its version', () => {
    const labels = runtime.filter((l) => l.startsWith('LABEL ')).join(' ');
    expect(labels).toContain('org.opencontainers.image.title="necessity"');
    expect(labels).toContain(`org.opencontainers.image.version="${pkg.version}"`);
    expect(labels).toContain('org.opencontainers.image.description=');
  });

  test('both stages use Node 20, the version the project runs on', () => {
    expect(stages.map((s) => s[0])).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim AS runtime']);
  });

  test('local state and secrets never enter the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', 'data', '.env', '**/.env']));
  });
});
