// The integration tests' FHIR server is the demo's: Medplum's router over its in-memory repository.
export { startFhirServer as startFhirTestServer, type Faults, type FhirServer as FhirTestServer } from '../../src/demo/fhir-server.js';

/** Clears every fault a test set on the server (between tests of one file sharing it). */
export function clearFaults(server: { readonly faults: object }): void {
  for (const key of Object.keys(server.faults)) {
    delete (server.faults as Record<string, unknown>)[key];
  }
}
