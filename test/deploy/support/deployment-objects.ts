import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { buildKustomization, readKustomization, readObjects, type KubeObject } from './kustomize.js';
import { repoRoot } from './service-env.js';

/**
 * The built manifests, typed by kind. The schema test (kubernetes-schema.test.ts) proves each object matches its
 * kind's schema with no unknown field, which is what makes these casts sound.
 */
export const kubeDir = join(repoRoot, 'deploy', 'kubernetes');
export const kustomization = readKustomization(kubeDir);
export const builtObjects: KubeObject[] = buildKustomization(kubeDir).map(({ object }) => object);
export const exampleSecret = readObjects(join(kubeDir, 'secret.example.yaml')).map(({ object }) => object as unknown as ISecret);

function only<T>(kind: string): T {
  const found = builtObjects.filter((o) => o.kind === kind);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}, found ${found.length}`);
  }
  return found[0] as unknown as T;
}

export const deployment = only<IDeployment>('Deployment');
export const service = only<IService>('Service');
export const pdb = only<IPodDisruptionBudget>('PodDisruptionBudget');
export const hpa = only<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler');
export const networkPolicy = only<INetworkPolicy>('NetworkPolicy');
export const configMaps = builtObjects.filter((o) => o.kind === 'ConfigMap') as unknown as IConfigMap[];
export const secrets: ISecret[] = [...builtObjects.filter((o) => o.kind === 'Secret').map((o) => o as unknown as ISecret), ...exampleSecret];

const podTemplate = deployment.spec?.template;
if (!podTemplate?.spec) {
  throw new Error('the Deployment has no pod template');
}
export const podSpec = podTemplate.spec;
export const podLabels: Record<string, string> = podTemplate.metadata?.labels ?? {};

const main = podSpec.containers.find((c) => c.name === 'necessity');
if (!main) {
  throw new Error('the Deployment has no container named necessity');
}
export const container: IContainer = main;

/** The keys of a Secret, whether written as data or stringData. */
export function secretKeys(secret: ISecret): string[] {
  return [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})];
}

/** The string values of a Secret (stringData as written, data decoded from base64). */
export function secretValues(secret: ISecret): Record<string, string> {
  const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { ...decoded, ...(secret.stringData ?? {}) };
}

/**
 * The environment the container starts with, as Kubernetes would assemble it from the manifests: envFrom
 * ConfigMaps, then env entries (literal, ConfigMap key or Secret key), later entries winning.
 */
export function containerEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const cm = configMaps.find((c) => c.metadata?.name === from.configMapRef?.name);
    Object.assign(env, cm?.data ?? {});
  }
  for (const entry of container.env ?? []) {
    const cmRef = entry.valueFrom?.configMapKeyRef;
    const secretRef = entry.valueFrom?.secretKeyRef;
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
    } else if (cmRef) {
      env[entry.name] = configMaps.find((c) => c.metadata?.name === cmRef.name)?.data?.[cmRef.key] ?? '';
    } else if (secretRef) {
      const secret = secrets.find((s) => s.metadata?.name === secretRef.name);
      env[entry.name] = secret ? (secretValues(secret)[secretRef.key] ?? '') : '';
    }
  }
  return env;
}

/** The Dockerfile's text, for the image facts the manifests rely on (user, port). */
export const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

/** Whether every label of `selector` is carried by `labels`. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
