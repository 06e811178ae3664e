import { randomUUID } from 'node:crypto';
import type { Resource, ServiceRequest } from 'fhir/r4.js';
import { loadCardTemplates } from '../cds/card-templates.js';
import { loadCoverageCardTemplates } from '../cds/coverage-cards.js';
import { loadServiceDefinitions, prefetchTemplates } from '../cds/discovery.js';
import type { HookRequest } from '../cds/hook-request.js';
import { determinationRecord } from '../cds/invocation-record.js';
import { createOrderHook } from '../cds/order-hook.js';
import type { Config } from '../config.js';
import { loadConfigurationOptions } from '../crd/configuration.js';
import { loadPlans } from '../crd/plans.js';
import type { Decision } from '../engine/decide.js';
import { fhirKitReader } from '../fhir/fhir-reader.js';
import type { Logger } from '../logger.js';
import { loadPolicy } from '../policy/load-policy.js';
import { DECISIONS, type DeterminationRecord, type FeedbackRecord, type InvocationRecord, type RecordStore } from '../store/record-store.js';
import { startFhirServer } from './fhir-server.js';
import { demoData, type DemoPatient } from './patients.js';

/**
 * A month of plausible history for the demo's record (issue #14: "/review is worth opening on a fresh clone").
 * Nothing is invented about what the service says: every recorded response is one the real order hook gave for
 * a demo patient, read from a real FHIR server (the demo's, on a loopback port) — including calls where that
 * server failed (HTTP 503 on one resource type, or too slow for the deadline) and re-signings after the
 * clinician answered the questionnaire. Those responses are then replayed over the past 30 days as other
 * patients' orders (fresh ids, dates shifted with the day), with volumes, decisions and clinicians' feedback
 * drawn from a seeded generator, so every start on an empty store writes the same history.
 */

const DAY_MS = 86_400_000;
const SEED = 20_261_130;

/** A small deterministic generator (mulberry32): the same history on every fresh start. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One real call of the hook, to be replayed. */
interface Template {
  readonly patientId: string;
  readonly decision: Decision;
  readonly text: string;
  /** The call's determinations as the service records them (src/cds/invocation-record.ts), as JSON text. */
  readonly determinations: string;
  readonly unreadable: readonly string[];
  readonly fhirRequests: number;
  readonly durationMs: number;
  readonly overrideCodes: readonly string[];
  readonly hasSuggestions: boolean;
}

/** What the history reads of a card it replays: its uuid, suggestions and override reasons. */
interface CardShape {
  readonly uuid?: string;
  readonly suggestions?: readonly unknown[];
  readonly overrideReasons?: readonly { readonly code?: string }[];
}

interface ResponseShape {
  readonly cards?: readonly CardShape[];
}

/** Every ISO date in the text moved by whole days (card text, authoredOn, CRD dates move together). */
function shiftDates(text: string, days: number): string {
  return text.replace(/\b(\d{4})-(\d{2})-(\d{2})(?=T|")/g, (_m, y: string, mo: string, d: string) => new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)) + days * DAY_MS).toISOString().slice(0, 10));
}

/** The text with every uuid in it fresh (card, suggestions, assertion ids), each one consistently. */
function freshIds(text: string): string {
  const renamed = new Map<string, string>();
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (old) => {
    let fresh = renamed.get(old);
    if (fresh === undefined) {
      fresh = randomUUID();
      renamed.set(old, fresh);
    }
    return fresh;
  });
}

const CPT = 'http://www.ama-assn.org/go/cpt';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';

/**
 * Runs the real hook for each demo patient against the demo's FHIR data on a loopback server, with and without
 * failures, and after answers.
 */
async function templates(config: Config, now: number): Promise<{ made: Template[]; serviceId: string; policy: { id: string; version: string } }> {
  const data = demoData(now);
  const fhir = await startFhirServer({ resources: data.resources });
  const loaded = loadPolicy();
  const service = loadServiceDefinitions().find((s) => s.hooks.includes('order-sign'));
  if (!service) {
    throw new Error('no order-sign service is defined');
  }
  const hookWith = (deadlineMs: number): ReturnType<typeof createOrderHook> =>
    createOrderHook({
      loaded,
      templates: loadCardTemplates(),
      prefetch: prefetchTemplates(service),
      gather: { readerFactory: fhirKitReader, deadlineMs, maxPages: config.fhirMaxPages },
      mirrorSystemActions: false,
      // The history's calls link no earlier questionnaires: none is served to them.
      questionnaires: { served: async () => new Set<string>() },
      plans: loadPlans(config.plansFile),
      crdOptions: loadConfigurationOptions(),
      coverageCards: loadCoverageCardTemplates(),
    });
  // The service's own deadline for the ordinary calls (a loaded machine must not turn them into failures), and a
  // short one for the call the slow server is meant to fail.
  const hook = hookWith(config.fhirTimeoutMs);
  const slowDeadlineMs = 400;
  const hurried = hookWith(slowDeadlineMs);
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const out: Template[] = [];
  const sign = async (p: DemoPatient, run = hook, code = p.suggestedOrder.code): Promise<void> => {
    const order: ServiceRequest = {
      resourceType: 'ServiceRequest',
      id: `${p.id}-mri`,
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${p.id}` },
      code: { coding: [{ system: CPT, code }] },
      authoredOn: new Date(now).toISOString(),
      requester: { reference: 'Practitioner/demo-clinician' },
      ...(p.suggestedOrder.reason !== '' ? { reasonCode: [{ coding: [{ system: ICD, code: p.suggestedOrder.reason }] }] } : {}),
      ...(['76390', '72159'].includes(code) ? { bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '122496007' }] }] } : {}),
    };
    const request = {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      fhirServer: fhir.baseUrl,
      context: { userId: 'Practitioner/demo-clinician', patientId: p.id, draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] } },
    } as HookRequest;
    const started = performance.now();
    const result = await run(request, now, base);
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const text = JSON.stringify(result.response);
    const determinations = result.decided.map((x) => determinationRecord(loaded.policy, x));
    const [d] = determinations;
    if (!d) {
      return;
    }
    const card = (JSON.parse(text) as ResponseShape).cards?.find((c) => c.uuid === d.cardUuid);
    out.push({
      patientId: p.id,
      decision: d.decision,
      text,
      determinations: JSON.stringify(determinations),
      unreadable: result.unchecked,
      fhirRequests: result.fhirRequests,
      durationMs,
      overrideCodes: (card?.overrideReasons ?? []).map((r) => r.code ?? '').filter((c) => c !== ''),
      hasSuggestions: (card?.suggestions ?? []).length > 0,
    });
  };
  try {
    // One call of each kind first, unrecorded: the first calls of a fresh process run cold (JIT, connections),
    // and their durations would not be the service's.
    for (const p of data.patients.slice(0, 3)) {
      await sign(p);
    }
    out.length = 0;
    for (const p of data.patients) {
      await sign(p);
    }
    const byId = (id: string): DemoPatient | undefined => data.patients.find((p) => p.id === id);
    const some = data.patients.filter((p) => /meets/.test(p.expected)).slice(0, 2);
    // The EHR's FHIR server failing one resource type (HTTP 503) for a call, then too slow for the deadline.
    for (const [i, type] of ['DocumentReference', 'Condition'].entries()) {
      const p = some[i];
      if (p) {
        fhir.faults.status = { type, code: 503 };
        await sign(p);
      }
    }
    delete fhir.faults.status;
    fhir.faults.delayMs = slowDeadlineMs + 300;
    const slow = some[0];
    if (slow) {
      await sign(slow, hurried);
    }
    delete fhir.faults.delayMs;
    // The clinician answered the questionnaire, then signed again: the answer decides (SPEC §2 Answers).
    for (const [id, fact] of [
      ['demo-back-pain-only', 'rf.saddle-anesthesia'],
      ['demo-pt-ten-days', 'fact.conservative-care-4wk'],
    ] as const) {
      const p = byId(id);
      if (!p) {
        continue;
      }
      await fhir.repo.createResource({
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        questionnaire: `${base}/Questionnaire/${loaded.policy.id}|${loaded.policy.version}`,
        subject: { reference: `Patient/${p.id}` },
        authored: new Date(now - 60_000).toISOString(),
        item: [{ linkId: 'answers', item: [{ linkId: fact, answer: [{ valueBoolean: true }] }] }],
      } as Resource as Parameters<typeof fhir.repo.createResource>[0]);
      await sign(p);
    }
  } finally {
    await fhir.close();
  }
  return { made: out, serviceId: service.id, policy: { id: loaded.policy.id, version: loaded.policy.version } };
}

/** Picks one of the items by weight. */
function pick<T>(random: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) {
      return item;
    }
  }
  return (items[items.length - 1] as readonly [T, number])[0];
}

/** A standard normal draw (Box–Muller), for durations that vary like real ones. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface HistoryResult {
  readonly seeded: boolean;
  readonly invocations: number;
  readonly feedback: number;
}

/**
 * Writes a month of history into an empty record; a record that already holds calls is left as it is, so a
 * restart does not write the month again.
 * @param store - the demo's record
 * @param config - the service configuration (plans, host and port for links)
 * @param logger - the logger
 * @param now - epoch ms; the month ends at it
 */
export async function seedDemoHistory(store: RecordStore, config: Config, logger: Logger, now = Date.now()): Promise<HistoryResult> {
  const existing = await store.listInvocations({ limit: 1 });
  if (existing.items.length > 0) {
    return { seeded: false, invocations: 0, feedback: 0 };
  }
  const { made, serviceId, policy } = await templates(config, now);
  const random = generator(SEED);
  const failing = made.filter((t) => t.unreadable.length > 0);
  const healthy = (d: Decision): Template[] => made.filter((t) => t.decision === d && t.unreadable.length === 0);
  const byDecision = new Map(DECISIONS.map((d) => [d, healthy(d)]));
  const records: InvocationRecord[] = [];
  const feedback: FeedbackRecord[] = [];
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  let n = 0;
  for (let day = 29; day >= 0; day--) {
    const start = today - day * DAY_MS;
    const weekday = new Date(start).getUTCDay() % 6 !== 0;
    const orders = weekday ? 22 + Math.floor(random() * 16) : 3 + Math.floor(random() * 6);
    // A slower week in the middle of the month: the EHR's FHIR server was struggling.
    const slowWeek = day >= 12 && day <= 16;
    for (let k = 0; k < orders; k++) {
      const receivedAt = start + 7 * 3_600_000 + Math.floor(random() * 11 * 3_600_000);
      if (receivedAt > now) {
        continue;
      }
      const failed = random() < (slowWeek ? 0.09 : 0.015) && failing.length > 0;
      const decision = pick<Decision>(random, [['meets-criteria', 56], ['documentation-needed', 34], ['does-not-meet-criteria', 10]]);
      const pool = failed ? failing : (byDecision.get(decision) ?? []);
      const t = pool[Math.floor(random() * pool.length)];
      if (!t) {
        continue;
      }
      const patientId = `${t.patientId}-${String(++n).padStart(4, '0')}`;
      // The response and its determinations renamed together, so that card uuids and assertion ids still agree.
      const [text = '', recorded = '[]'] = shiftDates(freshIds(`${t.text}\u0000${t.determinations}`), Math.round((start - today) / DAY_MS))
        .split(t.patientId)
        .join(patientId)
        .split('\u0000');
      const response = JSON.parse(text) as InvocationRecord['response'];
      const determinations = JSON.parse(recorded) as DeterminationRecord[];
      const durationMs = Math.round(Math.max(3, t.durationMs * (slowWeek ? 1.6 : 1) * Math.exp(0.45 * normal(random))) * 100) / 100;
      records.push({
        id: randomUUID(),
        receivedAt,
        hook: 'order-sign',
        hookInstance: randomUUID(),
        service: serviceId,
        clientIss: 'https://ehr.demo.example.org',
        patientId,
        orders: determinations.map((d) => d.order),
        policy,
        determinations,
        response,
        unreadable: t.unreadable,
        fhirRequests: t.fhirRequests,
        durationMs,
      });
      const d = determinations[0];
      if (d?.cardUuid === undefined) {
        continue;
      }
      const at = receivedAt + 20_000 + Math.floor(random() * 90_000);
      const item = (outcome: FeedbackRecord['outcome'], code?: string): FeedbackRecord => ({
        service: serviceId,
        cardUuid: d.cardUuid as string,
        outcome,
        outcomeAt: at,
        receivedAt: at + 300,
        acceptedSuggestions: [],
        ...(code !== undefined ? { overrideReason: { code, system: 'http://necessity.example.org/fhir/CodeSystem/override-reason' } } : {}),
      });
      const r = random();
      const [accept, override] = d.decision === 'meets-criteria' ? [0.62, 0] : d.decision === 'documentation-needed' ? [0.38, 0.22] : [0.3, 0.4];
      if (r < accept && (d.decision === 'meets-criteria' || t.hasSuggestions)) {
        feedback.push(item('accepted'));
      } else if (r >= 1 - override && t.overrideCodes.length > 0) {
        const weights: readonly (readonly [string, number])[] = t.overrideCodes.map((c) => [c, c === 'documented-elsewhere' ? 5 : c === 'urgent-clinical-need' ? 3 : 1.5] as const);
        feedback.push(item('overridden', pick(random, weights)));
      }
    }
  }
  for (let i = 0; i < records.length; i += 200) {
    await Promise.all(records.slice(i, i + 200).map((r) => store.recordInvocation(r)));
  }
  await store.flush(30_000);
  const written = await store.recordFeedback(feedback);
  logger.info({ event: 'demo-history', orders: records.length }, `demo record: a month of history written (${records.length} calls, ${written} feedback items)`);
  return { seeded: true, invocations: records.length, feedback: written };
}
