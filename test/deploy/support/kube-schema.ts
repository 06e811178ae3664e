import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { KubeObject } from './kustomize.js';

/**
 * Offline validation of Kubernetes objects against the official API schemas, as packaged by `kubernetes-models`
 * (generated from the Kubernetes OpenAPI specification; its validators are precompiled ajv code, nothing is fetched).
 *
 * Those schemas, like the API's own OpenAPI document, do not forbid unknown fields, so a misspelt `readinesProbe`
 * would pass them and be dropped by the API server. The strict check compiles each object as a TypeScript literal
 * of the package's generated interface for its kind: TypeScript's excess-property check then names every field the
 * kind does not define, at any depth (what kubeconform calls -strict).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The module of a kind in kubernetes-models: apiVersion "apps/v1", kind "Deployment" → "apps/v1/Deployment". */
function modulePath(object: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(object.apiVersion) || !/^[A-Z][A-Za-z]+$/.test(object.kind)) {
    throw new Error(`not an apiVersion/kind pair: ${object.apiVersion} ${object.kind}`);
  }
  return `kubernetes-models/${object.apiVersion}/${object.kind}`;
}

let previousProgram: ts.Program | undefined;

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/**
 * Validates one object against the schema of its apiVersion and kind.
 * @returns the validation message, or undefined when valid
 */
export async function schemaErrors(object: KubeObject): Promise<string | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath(object))) as Record<string, unknown>;
  } catch {
    return `no schema for ${object.apiVersion} ${object.kind} in kubernetes-models`;
  }
  const Model = mod[object.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') {
    return `kubernetes-models/${object.apiVersion} has no ${object.kind}`;
  }
  // The constructor copies the data; apiVersion and kind come from the object itself, so a wrong pair fails.
  const { apiVersion: _apiVersion, kind: _kind, ...data } = object;
  try {
    new Model(data).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Every field that the kind of its object does not define, as TypeScript's messages, per object.
 * @param objects - the objects, already valid against their schemas
 * @returns one list of messages per object, in order
 */
export function unknownFieldErrors(objects: readonly KubeObject[]): string[][] {
  const lines: string[] = [];
  const starts: number[] = [];
  objects.forEach((object, i) => {
    lines.push(`import type { I${object.kind} as T${i} } from '${modulePath(object)}';`);
  });
  let line = lines.length;
  objects.forEach((object, i) => {
    // Each object spans several lines: remember the line it starts on, to attribute the diagnostics.
    const declaration = `export const o${i}: T${i} = ${JSON.stringify(object, null, 1)};`;
    starts.push(line);
    lines.push(declaration);
    line += declaration.split('\n').length;
  });
  const fileName = join(root, 'test', 'deploy', '__strict_manifests__.ts');
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === fileName ? text : readFile(name));
  host.fileExists = (name) => name === fileName || fileExists(name);
  host.getSourceFile = (name, version, onError, create) =>
    name === fileName ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, onError, create);
  // Reusing the previous program lets TypeScript keep the declaration files it already parsed.
  const program = ts.createProgram([fileName], options, host, previousProgram);
  previousProgram = program;
  const source = program.getSourceFile(fileName);
  if (!source) {
    throw new Error('the strict check could not compile its own file');
  }
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  const perObject: string[][] = objects.map(() => []);
  const header: string[] = [];
  for (const d of diagnostics) {
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    let index = -1;
    for (let i = 0; i < starts.length; i += 1) {
      if ((starts[i] ?? Infinity) <= line) {
        index = i;
      }
    }
    (index >= 0 ? perObject[index] : header)?.push(message);
  }
  if (header.length > 0) {
    // An import that does not resolve would leave the types unchecked: fail rather than pass vacuously.
    throw new Error(`the strict check's imports failed: ${header.join('; ')}`);
  }
  return perObject;
}
