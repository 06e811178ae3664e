import { afterAll } from '@jest/globals';
import { disposeTestStore } from './test-store.js';

// Every test file: the record store its apps shared (a PostgreSQL schema) is closed and dropped at the end.
afterAll(async () => {
  await disposeTestStore();
});
