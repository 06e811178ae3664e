import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig, tokenHash } from '../../src/config.js';

const TOKEN_A = 'a'.repeat(32);
const TOKEN_B = 'b'.repeat(40);

describe('the record store’s configuration', () => {
  test('without DATABASE_URL the embedded database lives under ./data, kept ten years, with a 10,000-record queue and a 250 ms write wait', () => {
    const { store } = loadConfig({});
    expect(store).toEqual({ dataDir: './data', retentionDays: 3650, queueMax: 10_000, writeTimeoutMs: 250 });
  });

  test('the settings are read from the environment', () => {
    const { store } = loadConfig({ NECESSITY_DATA_DIR: '/var/lib/necessity', CDS_RECORD_RETENTION_DAYS: '30', CDS_RECORD_QUEUE_MAX: '5', CDS_RECORD_WRITE_TIMEOUT_MS: '100' });
    expect(store).toEqual({ dataDir: '/var/lib/necessity', retentionDays: 30, queueMax: 5, writeTimeoutMs: 100 });
  });

  test('a DATABASE_URL with a password never shows in a serialised or inspected configuration', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://necessity:s3cret-pw@db.internal:5432/necessity' });
    expect(config.store.databaseUrl?.reveal()).toBe('postgres://necessity:s3cret-pw@db.internal:5432/necessity');
    expect(JSON.stringify(config)).not.toContain('s3cret-pw');
    expect(inspect(config, { depth: 10 })).not.toContain('s3cret-pw');
    expect(String(config.store.databaseUrl)).toBe('[redacted]');
  });

  test('a DATABASE_URL that is not a postgres URL is refused without repeating it', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db' })).not.toThrow(/hunter2/);
  });

  test.each([
    ['CDS_RECORD_RETENTION_DAYS', '0'],
    ['CDS_RECORD_QUEUE_MAX', '-1'],
    ['CDS_RECORD_WRITE_TIMEOUT_MS', 'soon'],
  ])('%s=%s is refused', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
  });
});

describe('the reviewers’ tokens', () => {
  test('comma-separated tokens are kept only as their SHA-256 hashes', () => {
    const { reviewer } = loadConfig({ CDS_REVIEWER_TOKENS: `${TOKEN_A}, ${TOKEN_B}` });
    expect(reviewer).toEqual({ api: 'on', tokenHashes: [tokenHash(TOKEN_A), tokenHash(TOKEN_B)] });
    expect(JSON.stringify(reviewer)).not.toContain(TOKEN_A);
  });

  test('tokens may come from a file, one per line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'reviewers-')), 'tokens');
    writeFileSync(file, `${TOKEN_A}\n${TOKEN_B}\n`);
    expect(loadConfig({ CDS_REVIEWER_TOKENS: file }).reviewer.tokenHashes).toEqual([tokenHash(TOKEN_A), tokenHash(TOKEN_B)]);
  });

  test('a token shorter than 32 characters is refused', () => {
    expect(() => loadConfig({ CDS_REVIEWER_TOKENS: 'short-token' })).toThrow(/at least 32/);
  });

  test('production refuses to start with the audit API on and no reviewer token', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', CDS_AUTH: 'off' })).toThrow(/CDS_REVIEWER_TOKENS is empty/);
  });

  test('production starts without reviewer tokens only when the audit API is explicitly off', () => {
    expect(loadConfig({ NODE_ENV: 'production', CDS_AUTH: 'off', CDS_REVIEWER_API: 'off' }).reviewer).toEqual({ api: 'off', tokenHashes: [] });
  });

  test('outside production, no token means the API is there but refuses everyone, with a start-up warning', () => {
    const { reviewer } = loadConfig({});
    expect(reviewer.api).toBe('on');
    expect(reviewer.tokenHashes).toEqual([]);
    expect(reviewer.warning).toMatch(/refuses every caller/);
  });
});
