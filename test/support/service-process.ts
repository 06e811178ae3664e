import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { projectRoot } from '../../src/project-root.js';
import { POSTGRES_URL, postgresAdmin } from './store-engines.js';

const run = promisify(execFile);

/**
 * The service compiled as production runs it (tsconfig.build.json), into a folder of its own under
 * node_modules/.cache, so that it finds the project's data and packages by walking up as dist/ does.
 * Returns the path of its server.js and a function that removes the build.
 */
export async function buildService(): Promise<{ server: string; remove: () => void }> {
  const root = projectRoot();
  const out = join(root, 'node_modules', '.cache', `necessity-test-build-${randomBytes(4).toString('hex')}`);
  mkdirSync(out, { recursive: true });
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root });
  return { server: join(out, 'src', 'server.js'), remove: () => rmSync(out, { recursive: true, force: true }) };
}

/** A fresh, empty database on the test PostgreSQL, and how to reach and drop it. */
export async function freshDatabase(): Promise<{ name: string; url: string; query: (sql: string) => Promise<Record<string, unknown>[]>; drop: () => Promise<void> }> {
  const name = `necessity_t_${randomBytes(5).toString('hex')}`;
  await postgresAdmin(POSTGRES_URL, `create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    query: async (sql) => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    drop: () => postgresAdmin(POSTGRES_URL, `drop database if exists ${name} with (force)`),
  };
}


export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A service process: its base URL, the JSON log lines it wrote, and how it ended. */
export interface ServiceProcess {
  readonly base: string;
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the compiled server with this environment (HOST and PORT chosen here) and waits for /healthz.
 * @param server - the compiled server.js
 * @param env - the service's settings
 */
export async function startServiceProcess(server: string, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      throw new Error(`the service exited with ${child.exitCode} before answering`);
    }
    try {
      if ((await fetch(`${base}/healthz`)).ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (i > 600) {
      child.kill('SIGKILL');
      throw new Error('the service did not answer /healthz within a minute');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    child,
    lines,
    exited,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
      }
      return exited;
    },
  };
}
