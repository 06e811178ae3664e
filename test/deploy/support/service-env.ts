import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/deploy/support → ../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return sourceFiles(path);
    }
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The environment variables the service's code reads, found in src/ at test time: `env.X`, `env['X']`,
 * `process.env.X` and helper calls of the form `(env, 'X'` (as `integer(env, 'PORT', …)` in src/config.ts).
 * Reading the code rather than a list kept by hand means a renamed setting fails the deployment tests.
 */
export function keysReadBySource(): Set<string> {
  const keys = new Set<string>();
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]*)\b/g,
    /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
    /\(\s*env\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  ];
  for (const file of sourceFiles(join(repoRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        if (match[1]) {
          keys.add(match[1]);
        }
      }
    }
  }
  return keys;
}

/**
 * Settings announced for code not yet merged, tolerated until src/ reads them. Empty: the store's settings
 * (DATABASE_URL, NECESSITY_DATA_DIR, CDS_RECORD_*, CDS_REVIEWER_TOKENS) and CDS_PLANS_FILE are read by
 * src/config.ts, so every setting a deployment may give is found in the code itself.
 */
export const ANNOUNCED_BY_ISSUE_13: readonly string[] = [];

/** Variables read by Node.js itself rather than by the service's code. */
export const READ_BY_NODE = ['NODE_ENV', 'NODE_OPTIONS'] as const;

/** Every variable a deployment may set for the service. */
export function settableKeys(): Set<string> {
  return new Set([...keysReadBySource(), ...ANNOUNCED_BY_ISSUE_13, ...READ_BY_NODE]);
}
