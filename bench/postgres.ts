import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Knex from 'knex';
import { canConnect, dropDatabase, ensureDatabase, withDatabase, type Db } from '../db/knex';
import { startEmbeddedPostgres } from '../scripts/stack/embedded-postgres';
import type { Cleanup } from './processes';
import { pidsWithCommandLine, processTree, type ProcessGroup } from './proc-stats';

export interface BenchPostgres {
  kind: 'DATABASE_URL' | 'local 127.0.0.1:5432' | 'embedded';
  database: string;
  databaseUrl: string;
  version: string;
  /** CPU and memory of the server processes that work for this run. */
  group(db: Db): ProcessGroup;
}

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname);

/**
 * On a shared server only the backends of our own database are ours: the API's, the worker's and
 * the baseline's connections (the bench's own pool is left out). Background processes, which
 * every database on the server shares, are not counted.
 */
const backendsOf =
  (database: string, remote: boolean) =>
  (db: Db): ProcessGroup => ({
    name: 'postgres',
    scope: remote
      ? 'not measured: the server is not on this machine'
      : `backends of database ${database} (the shared server's background processes are not counted)`,
    pids: async () => {
      if (remote) return [];
      const rows = await db.raw(
        "select pid from pg_stat_activity where datname = current_database() and application_name <> 'cafe-flow-bench'",
      );
      return rows.rows.map((row: { pid: number }) => row.pid);
    },
  });

/** DATABASE_URL, else the local server on 5432, else an embedded one in the data directory; always a fresh database. */
export async function startPostgres(cleanup: Cleanup, dataDir: string, databaseUrl?: string): Promise<BenchPostgres> {
  const database = `cafe_flow_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  for (const [kind, candidate] of [
    ['DATABASE_URL', databaseUrl],
    ['local 127.0.0.1:5432', LOCAL],
  ] as const) {
    if (!candidate) continue;
    const adminUrl = withDatabase(candidate, 'postgres');
    if (!(await canConnect(adminUrl))) continue;
    await ensureDatabase(adminUrl, database);
    cleanup.add(`database ${database}`, () => dropDatabase(adminUrl, database));
    const url = withDatabase(candidate, database);
    return { kind, database, databaseUrl: url, version: await serverVersion(url), group: backendsOf(database, !isLoopback(url)) };
  }

  const directory = path.join(dataDir, 'postgres');
  const embedded = await startEmbeddedPostgres({ dataDir: directory });
  cleanup.add('embedded postgres', embedded.stop);
  await ensureDatabase(embedded.adminUrl, database);
  const url = withDatabase(embedded.adminUrl, database);
  return {
    kind: 'embedded',
    database,
    databaseUrl: url,
    version: await serverVersion(url),
    group: () => ({
      name: 'postgres',
      scope: 'the embedded server: postmaster and every child',
      pids: () => {
        const [postmaster] = pidsWithCommandLine(`-D ${directory}`);
        return postmaster ? processTree(postmaster) : [];
      },
    }),
  };
}

async function serverVersion(url: string): Promise<string> {
  const db = Knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  try {
    return (await db.raw('show server_version')).rows[0].server_version;
  } finally {
    await db.destroy();
  }
}
