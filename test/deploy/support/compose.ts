import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readYamlDocuments } from './kustomize.js';
import { repoRoot } from './service-env.js';

/** The parts of the Compose model the tests read; the whole file is validated against the Compose spec schema first. */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  container_name?: string;
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
  configs?: { source: string; target: string }[];
  secrets?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  ports?: string[];
  expose?: string[];
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number | string; resources?: { limits?: { memory?: string } } };
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { environment?: string; file?: string }>;
  configs?: Record<string, { file?: string }>;
}

export const deployDir = join(repoRoot, 'deploy');
export const composePath = join(deployDir, 'compose.yaml');
export const composeText = readFileSync(composePath, 'utf8');
export const compose = readYamlDocuments(composePath)[0] as ComposeFile;

/**
 * Reads a Compose .env file: KEY=value lines, # comments; a value in single quotes is taken literally and one in
 * double quotes without its quotes, as docker compose does.
 * @param path - the env file
 */
export function readDotEnv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    let value = line.slice(eq + 1);
    if (/^'.*'$/.test(value) || /^".*"$/.test(value)) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  }
  return out;
}

/** The variables a Compose text interpolates, with whether each is required (${X:?…}) or has a default. */
export function interpolatedVariables(text: string): { name: string; kind: 'plain' | 'default' | 'required' }[] {
  return [...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}/g)].map((m) => ({
    name: m[1] ?? '',
    kind: m[2]?.startsWith(':?') || m[2]?.startsWith('?') ? 'required' : m[2] ? 'default' : 'plain',
  }));
}

/**
 * Compose interpolation of one value: ${X}, ${X:-default}, ${X-default}, ${X:?error}, and $$ for a literal $.
 * @param value - the text as written
 * @param env - the variables (from .env)
 */
export function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_m, name: string, colon: string, op: string, arg: string) => {
      const v = env[name];
      const missing = v === undefined || (colon === ':' && v === '');
      if (op === '-') {
        return missing ? arg : (v ?? '');
      }
      if (op === '?' && missing) {
        throw new Error(`required variable ${name} is not set: ${arg}`);
      }
      return v ?? '';
    })
    .replace(/\$\$/g, '$');
}
