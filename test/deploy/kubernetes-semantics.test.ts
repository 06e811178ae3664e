import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { loadPlans } from '../../src/crd/plans.js';
import { silentLogger } from '../../src/logger.js';
import { createService } from '../../src/service.js';
import { createStore } from '../../src/store/create-store.js';
import {
  configMaps,
  container,
  containerEnvironment,
  deployment,
  dockerfile,
  exampleSecret,
  hpa,
  kubeDir,
  kustomization,
  builtObjects,
  networkPolicy,
  pdb,
  podLabels,
  podSpec,
  secretKeys,
  secrets,
  secretValues,
  selects,
  service,
} from './support/deployment-objects.js';
import { parseQuantity, readEnvFile } from './support/kustomize.js';
import { keysReadBySource, repoRoot, settableKeys } from './support/service-env.js';

const MB = 1e6;
/** Flushing the record queue on SIGTERM: the allowance deploy/README.md documents ("Shutdown"). */
const FLUSH_ALLOWANCE_S = 15;
/** The drain's longest wait, read from the code so that a change there is a change here (src/server.ts drain). */
const drainSeconds = (() => {
  const match = /export function drain\(server: Server, graceMs = ([0-9_]+)\)/.exec(readFileSync(join(repoRoot, 'src', 'server.ts'), 'utf8'));
  if (!match?.[1]) {
    throw new Error('src/server.ts no longer declares drain(server, graceMs = …): update this test');
  }
  return Number(match[1].replace(/_/g, '')) / 1000;
})();

const portName = container.ports?.[0]?.name;
const portNumber = container.ports?.[0]?.containerPort;
/** Whether a probe or Service port names the container's port, by name or number. */
const isContainerPort = (port: string | number | undefined): boolean => port !== undefined && (port === portName || port === portNumber);

describe('the Deployment runs replicas that any load balancer can use interchangeably', () => {
  test("the Deployment's selector picks exactly its own pods", () => {
    expect(selects(deployment.spec?.selector.matchLabels, podLabels)).toBe(true);
    expect(deployment.spec?.selector.matchExpressions).toBeUndefined();
  });

  test('at least two replicas always: the autoscaler owns the count and its minimum is two', () => {
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name });
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec?.maxReplicas).toBeGreaterThanOrEqual(hpa.spec?.minReplicas ?? Infinity);
    // A replicas field would be re-applied over the autoscaler's count by every kubectl apply.
    expect(deployment.spec?.replicas).toBeUndefined();
  });

  test('the autoscaler scales on CPU utilisation, which the container requests so that utilisation is defined', () => {
    expect(hpa.spec?.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } },
    ]);
    expect(container.resources?.requests?.cpu).toBeDefined();
  });

  test('a rollout never removes a ready replica before its successor is ready', () => {
    expect(deployment.spec?.strategy?.type).toBe('RollingUpdate');
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(parseQuantity(deployment.spec?.strategy?.rollingUpdate?.maxSurge ?? 0)).toBeGreaterThanOrEqual(1);
  });

  test('replicas are spread so that one node lost never takes them all', () => {
    const byHost = podSpec.topologySpreadConstraints?.find((c) => c.topologyKey === 'kubernetes.io/hostname');
    expect(byHost).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
    expect(selects(byHost?.labelSelector?.matchLabels, podLabels)).toBe(true);
  });

  test('a node drain keeps one replica serving, and can always proceed while two run', () => {
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(selects(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    expect(Number(pdb.spec?.minAvailable)).toBeLessThan(hpa.spec?.minReplicas ?? 0);
  });
});

describe('traffic reaches the service port, and the probes ask the service what the spec says they mean', () => {
  test('the container listens on the PORT its settings give, the port the image exposes', () => {
    const env = containerEnvironment();
    expect(Number(env.PORT)).toBe(portNumber);
    expect(env.HOST).toBe('0.0.0.0');
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${portNumber}$`, 'm'));
  });

  test('the Service sends port 80 to the container port of the pods it selects, inside the cluster only', () => {
    expect(service.spec?.type).toBe('ClusterIP');
    expect(selects(service.spec?.selector, podLabels)).toBe(true);
    expect(service.spec?.ports?.map((p) => ({ port: p.port, to: isContainerPort(p.targetPort) }))).toEqual([{ port: 80, to: true }]);
  });

  test('the NetworkPolicy admits only the container port of these pods', () => {
    expect(selects(networkPolicy.spec?.podSelector?.matchLabels, podLabels)).toBe(true);
    const ports = (networkPolicy.spec?.ingress ?? []).flatMap((rule) => rule.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.every((p) => isContainerPort(p.port) && p.protocol === 'TCP')).toBe(true);
  });

  test('startup and liveness ask /healthz, readiness asks /readyz, all on the container port', () => {
    const probes = {
      startup: container.startupProbe?.httpGet,
      liveness: container.livenessProbe?.httpGet,
      readiness: container.readinessProbe?.httpGet,
    };
    expect(Object.fromEntries(Object.entries(probes).map(([k, g]) => [k, { path: g?.path, containerPort: isContainerPort(g?.port) }]))).toEqual({
      startup: { path: '/healthz', containerPort: true },
      liveness: { path: '/healthz', containerPort: true },
      readiness: { path: '/readyz', containerPort: true },
    });
  });

  test('with the deployment settings (production, authentication on) the probes answer 200 without a token, and a hook without one gets 401', async () => {
    // The environment a pod gets from the manifests (the example Secret standing in for the real one).
    // The plans file is mounted from the necessity-plans ConfigMap; here it is read from where kustomize takes it.
    const config = loadConfig({ ...containerEnvironment(), NODE_ENV: 'production', CDS_PLANS_FILE: join(repoRoot, 'deploy', 'kubernetes', 'plans.json') });
    expect(config.auth).toBe('on');
    // The manifests' DATABASE_URL names the cluster's postgres service, which does not resolve here: the store
    // opens degraded, as a pod does when its database is not up yet, and the service starts all the same.
    const store = await createStore(config.store, silentLogger);
    try {
      const app = createService({ ...config, port: 0 }, silentLogger, store);
      const health = await request(app).get('/healthz');
      const ready = await request(app).get('/readyz');
      expect(health.status).toBe(200);
      expect(ready.status).toBe(200);
      // Degraded (database unreachable, records queued) still answers 200: the replica stays in rotation.
      expect(['ready', 'degraded']).toContain((ready.body as { status: string }).status);
      const hook = await request(app).post('/cds-services/cohere-lumbar-mri').send({});
      expect(hook.status).toBe(401);
    } finally {
      await store.close(1_000);
    }
  });

  test('a starting replica gets a minute before liveness may restart it', () => {
    const startup = container.startupProbe;
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);
  });
});

describe('shutdown finishes the work in hand', () => {
  test('the grace period covers the preStop pause, the drain of in-flight requests and the flush of the record queue', () => {
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    const pause = Number(preStop[1]);
    expect(pause).toBeGreaterThan(0);
    expect(drainSeconds).toBe(10);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + drainSeconds + FLUSH_ALLOWANCE_S);
  });

  test('the image runs node itself, so SIGTERM reaches the service and not a shell or npm', () => {
    expect(dockerfile).toMatch(/^CMD \["node", /m);
    expect(container.command).toBeUndefined();
  });
});

describe('the pods run with the least privilege the service needs', () => {
  test('non-root as the image user node (1000), no privilege escalation, no capabilities, default seccomp', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext?.capabilities?.add).toBeUndefined();
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(podSpec.hostNetwork ?? false).toBe(false);
  });

  test('the read-only root filesystem leaves /tmp writable, and every mount names a declared volume', () => {
    const volumes = new Set((podSpec.volumes ?? []).map((v) => v.name));
    expect((container.volumeMounts ?? []).every((m) => volumes.has(m.name))).toBe(true);
    const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(podSpec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  test('the namespace enforces the restricted Pod Security Standard these pods meet', () => {
    const ns = builtObjects.find((o) => o.kind === 'Namespace');
    expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(kustomization.namespace).toBe(ns?.metadata.name);
    expect(builtObjects.every((o) => o.metadata.namespace === undefined || o.metadata.namespace === kustomization.namespace)).toBe(true);
  });
});

describe('resources are sized from the measured service', () => {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};

  test('CPU and memory have both a request and a limit, each request within its limit', () => {
    for (const r of ['cpu', 'memory']) {
      expect(requests[r]).toBeDefined();
      expect(limits[r]).toBeDefined();
      expect(parseQuantity(requests[r] ?? 0)).toBeLessThanOrEqual(parseQuantity(limits[r] ?? 0));
    }
  });

  test('the JavaScript heap is capped at three quarters of the memory limit at most, leaving the rest to the young generation and buffers', () => {
    const cap = /--max-old-space-size=([0-9]+)/.exec(containerEnvironment().NODE_OPTIONS ?? '')?.[1];
    expect(cap).toBeDefined();
    expect(Number(cap) * 2 ** 20).toBeLessThanOrEqual(0.75 * parseQuantity(limits.memory ?? 0));
  });

  test('memory: the request covers the 189 MB measured under load, the limit the 462 MB of the largest charts (BENCHMARKS.md)', () => {
    expect(parseQuantity(requests.memory ?? 0)).toBeGreaterThanOrEqual(189 * MB);
    expect(parseQuantity(limits.memory ?? 0)).toBeGreaterThanOrEqual(462 * MB);
  });
});

describe('settings and secrets: every reference resolves, every variable is one the service reads', () => {
  test('every secretKeyRef names a Secret and a key the manifests define', () => {
    const refs = (container.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
    expect(refs.map((r) => r.key).sort()).toEqual(['database-url', 'reviewer-tokens', 'trusted-clients']);
    for (const ref of refs) {
      const secret = secrets.find((s) => s.metadata?.name === ref.name);
      expect(secret && secretKeys(secret)).toContain(ref.key);
      expect(ref.optional ?? false).toBe(false);
    }
  });

  test('the database URL and the client and reviewer credentials come only from the Secret', () => {
    const fromSecret = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name).sort();
    expect(fromSecret).toEqual(['CDS_REVIEWER_TOKENS', 'CDS_TRUSTED_CLIENTS', 'DATABASE_URL']);
    const plain = { ...Object.fromEntries(configMaps.flatMap((c) => Object.entries(c.data ?? {}))) };
    for (const name of fromSecret) {
      expect(plain[name]).toBeUndefined();
      expect((container.env ?? []).find((e) => e.name === name)?.value).toBeUndefined();
    }
  });

  test('every configMapRef, configMapKeyRef and configMap volume names a ConfigMap (and key) the kustomization builds', () => {
    const names = new Set(configMaps.map((c) => c.metadata?.name));
    for (const from of container.envFrom ?? []) {
      expect(names).toContain(from.configMapRef?.name);
      expect(from.secretRef).toBeUndefined();
    }
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef;
      if (ref) {
        expect(configMaps.find((c) => c.metadata?.name === ref.name)?.data?.[ref.key]).toBeDefined();
      }
    }
    for (const v of podSpec.volumes ?? []) {
      if (v.configMap) {
        const cm = configMaps.find((c) => c.metadata?.name === v.configMap?.name);
        expect(cm).toBeDefined();
        for (const item of v.configMap.items ?? []) {
          expect(cm?.data?.[item.key]).toBeDefined();
        }
      }
    }
  });

  test('every variable the manifests set is one the service (or Node.js) reads', () => {
    const allowed = settableKeys();
    const set = Object.keys(containerEnvironment());
    expect(set.filter((key) => !allowed.has(key))).toEqual([]);
  });

  test('the search of src/ for settings finds those src/config.ts reads (so the check above has teeth)', () => {
    expect([...keysReadBySource()]).toEqual(expect.arrayContaining(['PORT', 'HOST', 'CDS_TRUSTED_CLIENTS', 'CDS_FHIR_TIMEOUT_MS', 'CDS_AUTH', 'NODE_ENV']));
    expect(settableKeys().has('CDS_NO_SUCH_SETTING')).toBe(false);
  });

  test("the settings pass the service's own configuration check in production", () => {
    expect(() => loadConfig({ ...containerEnvironment(), NODE_ENV: 'production' })).not.toThrow();
  });

  test('CDS_PLANS_FILE names the plans file where its ConfigMap volume mounts it, and the file lists named plans', () => {
    const path = containerEnvironment().CDS_PLANS_FILE ?? '';
    const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    const volume = podSpec.volumes?.find((v) => v.name === mount?.name)?.configMap;
    const relative = path.slice((mount?.mountPath.length ?? 0) + 1);
    const item = volume?.items?.find((i) => i.path === relative);
    const content = configMaps.find((c) => c.metadata?.name === volume?.name)?.data?.[item?.key ?? ''] ?? '';
    // The mounted content is read by the service's own loader, which validates it (SPEC §7.1).
    const file = join(mkdtempSync(join(tmpdir(), 'plans-')), 'plans.json');
    writeFileSync(file, content);
    const plans = loadPlans(file);
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.every((p) => p.name.length > 0)).toBe(true);
  });

  test('settings.env holds plain KEY=value lines, so kustomize and docker compose read the same values', () => {
    const raw = readFileSync(join(kubeDir, 'settings.env'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(raw.filter((l) => !/^[A-Z][A-Z0-9_]*=[^\s"'#]*$/.test(l))).toEqual([]);
    expect(Object.keys(readEnvFile(join(kubeDir, 'settings.env')))).not.toContain('NODE_ENV');
  });

  test('the example Secret holds placeholders only, never a credential', () => {
    for (const secret of exampleSecret) {
      for (const [key, value] of Object.entries(secretValues(secret))) {
        expect({ key, placeholder: /CHANGE-ME|\.invalid\b/.test(value) }).toEqual({ key, placeholder: true });
      }
    }
    expect(readFileSync(join(kubeDir, 'secret.example.yaml'), 'utf8')).toMatch(/^# EXAMPLE ONLY/);
  });

  test('the image comes from the kustomization images entry, with a fixed tag', () => {
    const entry = kustomization.images?.find((i) => i.name === container.image);
    expect(entry?.newTag).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
  });

  test('every variable the deployment sets is documented in deploy/README.md', () => {
    const readme = readFileSync(join(repoRoot, 'deploy', 'README.md'), 'utf8');
    const keys = Object.keys(containerEnvironment());
    expect(keys.filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });
});
