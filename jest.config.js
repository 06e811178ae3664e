// ts-jest in ESM mode: the service is ESM-only (fhir-kit-client 2, jose 6), so tests run as ESM too.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // Closes and drops the record store each test file's apps shared (test/support/test-store.ts).
  setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
};
