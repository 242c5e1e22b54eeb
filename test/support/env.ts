import { loadConfig, type Config } from '../../lib/config';

let databaseUrl: string | undefined;

export function setTestDatabaseUrl(url: string): void {
  databaseUrl = url;
}

export function testDatabaseUrl(): string {
  if (!databaseUrl) throw new Error('the test database is set up by test/support/hooks.ts');
  return databaseUrl;
}

/** The config a test process would load, pointed at the run's database and with test settings. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PASSWORD_HASH_COST: '14',
    DATABASE_URL: testDatabaseUrl(),
    ...overrides,
  });
}
