import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFields } from '../../src/logger.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/create-store.js';
import { assertionIdOf, signing } from '../support/records.js';

test('without DATABASE_URL the record lives under NECESSITY_DATA_DIR and a restart keeps it; migrations are applied once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'necessity-data-'));
  const config = { dataDir, retentionDays: 3650, queueMax: 100, writeTimeoutMs: 2_000 };
  try {
    const lines: LogFields[] = [];
    const logger = { ...silentLogger, info: (fields: LogFields) => void lines.push(fields) };
    const first = await createStore(config, logger);
    expect(first.engine).toBe('pglite');
    const record = signing('documentation-needed');
    expect(await first.recordInvocation(record)).toEqual({ state: 'durable' });
    await first.close();

    const second = await createStore(config, logger);
    try {
      expect((await second.getAssertion(assertionIdOf(record)))?.invocation).toEqual(record);
    } finally {
      await second.close();
    }
    const ready = lines.filter((l) => l.event === 'store-ready');
    expect(ready.map((l) => l.migrations)).toEqual([['0001-record', '0002-dashboard', '0003-toast-compression'], []]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
