import { randomBytes } from 'node:crypto';
import { canConnect, createDb, dropDatabase, ensureDatabase, migrateLatest, withDatabase } from '../../db/knex';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../scripts/stack/embedded-postgres';

/**
 * One fresh database per test run, on the Postgres at DATABASE_URL, else the local one on 5432,
 * else an embedded Postgres started for the run. Dropped at the end.
 */
let adminUrl: string | undefined;
let databaseName: string | undefined;
let embedded: EmbeddedPostgres | undefined;

export async function setUpTestDatabase(env: Record<string, string | undefined>): Promise<string> {
  const candidates = [env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres'].filter(Boolean) as string[];
  for (const candidate of candidates) {
    if (await canConnect(withDatabase(candidate, 'postgres'))) {
      adminUrl = withDatabase(candidate, 'postgres');
      break;
    }
  }
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: '.data/test-postgres', port: 0 });
    adminUrl = embedded.adminUrl;
  }
  databaseName = `cafe_flow_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  await ensureDatabase(adminUrl, databaseName);
  const url = withDatabase(adminUrl, databaseName);
  const db = createDb({ url, poolMax: 2 });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  return url;
}

export async function tearDownTestDatabase(): Promise<void> {
  if (adminUrl && databaseName) await dropDatabase(adminUrl, databaseName);
  await embedded?.stop();
}

export function testAdminUrl(): string {
  if (!adminUrl) throw new Error('test database not set up');
  return adminUrl;
}
