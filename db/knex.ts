import path from 'node:path';
import Knex, { type Knex as KnexType } from 'knex';
import { knexSnakeCaseMappers } from 'objection';
import pg from 'pg';

export type Db = KnexType;
/** A pool or an open transaction: repositories run on whichever the caller hands them. */
export type Executor = KnexType | KnexType.Transaction;

// COUNT(*) and SUM() come back as bigint strings; our sums of cents fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface DbOptions {
  url: string;
  poolMax?: number;
  applicationName?: string;
}

export function createDb({ url, poolMax = 10, applicationName = 'cafe-flow' }: DbOptions): Db {
  return Knex({
    client: 'pg',
    connection: { connectionString: url, application_name: applicationName },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    // Connection failures reach callers as errors (and /ready); knex's own console lines add nothing.
    log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
    ...knexSnakeCaseMappers(),
  });
}

export const migrationsDirectory = path.join(__dirname, 'migrations');

// Source runs under tsx (.ts); the production image runs compiled .js.
const migrationConfig = {
  directory: migrationsDirectory,
  loadExtensions: [path.extname(__filename)],
  tableName: 'knex_migrations',
};

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

export async function migrateRollback(db: Db, all = false): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(migrationConfig, all)) as [number, string[]];
  return reverted;
}

export async function pingDb(db: Db): Promise<void> {
  await db.raw('select 1');
}

/** Whether a Postgres answers at `url` within two seconds (never throws). */
export async function canConnect(url: string): Promise<boolean> {
  const probe = Knex({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 2000 },
    pool: { min: 0, max: 1 },
  });
  try {
    await probe.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await probe.destroy();
  }
}

/** Creates `name` on the server behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = Knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (found.rows.length === 0) await admin.raw('create database ??', [name]);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = Knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('drop database if exists ?? with (force)', [name]);
  } finally {
    await admin.destroy();
  }
}

/** The same server URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
