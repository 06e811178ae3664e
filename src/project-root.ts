import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root folder (where package.json, hooks/, cards/ and policy/ live), found by walking up
 * from this module, so the same code works from src/ under the test runner and from dist/src/ in
 * production.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'necessity') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error('cannot find the necessity project root above this module');
    }
    dir = parent;
  }
}

/** Reads a JSON data file of the project. */
export function readProjectJson(...path: string[]): unknown {
  return JSON.parse(readFileSync(join(projectRoot(), ...path), 'utf8')) as unknown;
}
