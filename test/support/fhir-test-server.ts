// The integration tests' FHIR server is the demo's: Medplum's router over its in-memory repository.
export { startFhirServer as startFhirTestServer, type Faults, type FhirServer as FhirTestServer } from '../../src/demo/fhir-server.js';
