import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * What `kubectl apply -k deploy/kubernetes` would send, built offline for the tests: the listed resources, and the
 * ConfigMaps of configMapGenerator (named without kustomize's hash suffix, which kustomize also writes into every
 * reference, so names compare as written). Only the kustomization fields this subset models are accepted, so a
 * field added later cannot silently escape the tests.
 */

/** A Kubernetes object as parsed from YAML; validated against its schema by the tests before any field is trusted. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** One YAML file's objects, with the file they came from for messages. */
export interface SourcedObject {
  readonly file: string;
  readonly object: KubeObject;
}

export interface Kustomization {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  resources: string[];
  configMapGenerator?: { name: string; envs?: string[]; files?: string[] }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

/** The kustomization fields this offline model understands. */
export const MODELLED_FIELDS = ['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'configMapGenerator', 'images'];

/** Parses every YAML document of a file; a YAML error fails loudly with the file name. */
export function readYamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  return list
    .map((doc) => {
      if (doc.errors.length > 0) {
        throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
      }
      return doc.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

function asKubeObject(value: unknown, file: string): KubeObject {
  if (typeof value !== 'object' || value === null) {
    throw new Error(`${file}: a document is not an object`);
  }
  const o = value as Record<string, unknown>;
  const metadata = o.metadata as Record<string, unknown> | undefined;
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof metadata?.name !== 'string') {
    throw new Error(`${file}: every object needs apiVersion, kind and metadata.name`);
  }
  return value as KubeObject;
}

/**
 * Parses a kustomize `envs` file the way kustomize does: KEY=value per line, # comments and blank lines skipped.
 * @param path - the env file
 */
export function readEnvFile(path: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new Error(`${path}: "${line}" is not KEY=value`);
    }
    data[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return data;
}

export function readKustomization(dir: string): Kustomization {
  const [doc] = readYamlDocuments(join(dir, 'kustomization.yaml'));
  return doc as Kustomization;
}

/**
 * The objects kustomize would build from `dir`: resources in order, then the generated ConfigMaps.
 * @param dir - the kustomization directory
 */
export function buildKustomization(dir: string): SourcedObject[] {
  const k = readKustomization(dir);
  const unknown = Object.keys(k).filter((field) => !MODELLED_FIELDS.includes(field));
  if (unknown.length > 0) {
    throw new Error(`kustomization.yaml uses fields this offline model does not build: ${unknown.join(', ')}`);
  }
  const out: SourcedObject[] = [];
  for (const resource of k.resources) {
    const path = join(dir, resource);
    if (!existsSync(path)) {
      throw new Error(`kustomization.yaml lists ${resource}, which does not exist`);
    }
    for (const doc of readYamlDocuments(path)) {
      out.push({ file: resource, object: asKubeObject(doc, resource) });
    }
  }
  for (const gen of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const env of gen.envs ?? []) {
      Object.assign(data, readEnvFile(join(dir, env)));
    }
    for (const file of gen.files ?? []) {
      data[basename(file)] = readFileSync(join(dir, file), 'utf8');
    }
    out.push({
      file: `configMapGenerator ${gen.name}`,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data },
    });
  }
  return out;
}

/**
 * Objects of one file outside the kustomization (the example Secret).
 * @param path - the YAML file
 */
export function readObjects(path: string): SourcedObject[] {
  return readYamlDocuments(path).map((doc) => ({ file: basename(path), object: asKubeObject(doc, path) }));
}

/**
 * A Kubernetes quantity in base units: "512Mi" → 536870912, "500m" → 0.5, "1" → 1.
 * @param quantity - the quantity as written in a manifest
 */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') {
    return quantity;
  }
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match?.[1]) {
    throw new Error(`not a quantity this test understands: ${quantity}`);
  }
  const factor: Record<string, number> = {
    m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? (factor[match[2]] ?? Number.NaN) : 1);
}
