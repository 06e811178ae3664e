import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildKustomization, MODELLED_FIELDS, readKustomization, readObjects, type KubeObject } from './support/kustomize.js';
import { schemaErrors, unknownFieldErrors } from './support/kube-schema.js';
import { repoRoot } from './support/service-env.js';

const dir = join(repoRoot, 'deploy', 'kubernetes');
const built = buildKustomization(dir);
const example = readObjects(join(dir, 'secret.example.yaml'));
const everything = [...built, ...example];

type Editable = KubeObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
const deployment = built.find(({ object }) => object.kind === 'Deployment')?.object as KubeObject;
/** A copy of the Deployment with one deliberate defect. */
function broken(mutate: (d: Editable) => void): KubeObject {
  const copy = structuredClone(deployment) as Editable;
  mutate(copy);
  return copy;
}
/** Two objects the strict check must refuse: a misspelt container field, a misspelt metadata field. */
const misspelt = [
  broken((d) => {
    const container = d.spec.template.spec.containers[0] ?? {};
    d.spec.template.spec.containers[0] = { ...container, readinesProbe: container.readinessProbe };
  }),
  { ...deployment, metadata: { ...deployment.metadata, lables: { a: 'b' } } } as KubeObject,
];
// One TypeScript compilation for the manifests and the misspelt objects together (it is the slow step).
let strict: string[][] | undefined;
const strictErrors = (): string[][] => (strict ??= unknownFieldErrors([...everything.map(({ object }) => object), ...misspelt]));

describe('the Kubernetes manifests are valid against the official API schemas, offline', () => {
  test('kubectl apply -k builds the service, its settings and plans, and what keeps it available', () => {
    const kinds = built.map(({ object }) => `${object.apiVersion} ${object.kind}`).sort();
    expect(kinds).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'networking.k8s.io/v1 NetworkPolicy',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 ConfigMap',
      'v1 Namespace',
      'v1 Service',
    ]);
  });

  test.each(everything.map(({ file, object }) => [`${object.kind} ${object.metadata.name} (${file})`, object] as const))(
    '%s matches the schema of its kind',
    async (_name, object) => {
      expect(await schemaErrors(object)).toBeUndefined();
    },
  );

  test('no manifest carries a field its kind does not define (a misspelt field would be dropped silently)', () => {
    const errors = strictErrors();
    expect(everything.map(({ object }, i) => ({ object: `${object.kind} ${object.metadata.name}`, errors: errors[i] }))).toEqual(
      everything.map(({ object }) => ({ object: `${object.kind} ${object.metadata.name}`, errors: [] })),
    );
  });

  test('every YAML file in deploy/kubernetes is built by the kustomization, except the example Secret', () => {
    const k = readKustomization(dir);
    const yamlFiles = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...k.resources].sort()).toEqual(yamlFiles.filter((f) => f !== 'secret.example.yaml').sort());
    expect(k.resources).not.toContain('secret.example.yaml');
    expect(Object.keys(k).every((field) => MODELLED_FIELDS.includes(field))).toBe(true);
  });
});

describe('the validators used above reject what they should (so a pass means something)', () => {
  test('a container port written as text fails the schema', async () => {
    const bad = broken((d) => {
      d.spec.template.spec.containers[0] = { ...d.spec.template.spec.containers[0], ports: [{ containerPort: 'http' }] };
    });
    expect(await schemaErrors(bad)).toMatch(/containerPort must be integer/);
  });

  test('a Deployment without its pod template fails the schema', async () => {
    const { template: _template, ...spec } = (deployment as unknown as { spec: Record<string, unknown> }).spec;
    expect(await schemaErrors({ ...deployment, spec })).toMatch(/must have required property '?template'?/);
  });

  test('a kind the API does not have is refused', async () => {
    expect(await schemaErrors({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toMatch(/no schema|has no/);
  });

  test('a misspelt probe inside a container, and a misspelt metadata field, are both named', () => {
    const [containerErrors, metaErrors] = strictErrors().slice(everything.length);
    expect(containerErrors?.join(' ')).toMatch(/'"?readinesProbe"?' does not exist/);
    expect(metaErrors?.join(' ')).toMatch(/'"?lables"?' does not exist/);
  });
});
