import { readFileSync } from 'node:fs';
import type { Patient, Resource } from 'fhir/r4.js';

/**
 * Reads a Synthea transaction bundle as a FHIR server would store it: every `urn:uuid:` reference
 * becomes `Type/id` by the bundle's fullUrls.
 * @param path - the bundle file
 */
export function loadSyntheaRecord(path: string): { patient: Patient; resources: Resource[] } {
  const bundle = JSON.parse(readFileSync(path, 'utf8')) as { entry?: { fullUrl?: string; resource?: Resource }[] };
  const byUrl = new Map<string, string>();
  for (const e of bundle.entry ?? []) {
    if (e.fullUrl && e.resource?.id) {
      byUrl.set(e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`);
    }
  }
  const text = JSON.stringify((bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
  const resolved = JSON.parse(text.replace(/"reference":"(urn:uuid:[^"]+)"/g, (m, url: string) => (byUrl.has(url) ? `"reference":"${byUrl.get(url) ?? ''}"` : m))) as Resource[];
  const patient = resolved.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) {
    throw new Error(`${path} holds no Patient`);
  }
  return { patient, resources: resolved.filter((r) => r !== patient) };
}
