import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Knex from 'knex';
import { verifyArchive, restoreArchive, type Beat } from '../activities/maintenance/archive-steps';
import { findPgTools } from '../activities/maintenance/pg-tools';
import { createDb, dropDatabase, ensureDatabase, withDatabase } from '../db/knex';
import { countRows, countUserRelations, serverVersionNum } from '../db/repositories/backups';
import { DRILL_TABLES } from '../workflows/maintenance/contracts';
import { discoverStack, notFound } from './stack/discover';

const USAGE = 'usage: npm run restore -- <backup-file> --database <name> [--force] [--pg-bin-dir <dir>]';
// pg_restore of a large archive runs for hours: a line this often shows it is still at work.
const PROGRESS_MS = 10_000;

/**
 * Restores an archive made by the backup workflow into a database on the server of DATABASE_URL
 * (next to `npm start`: its Postgres, found by scripts/stack/discover.ts).
 * The checksum and readability are verified first; a database that already holds tables is
 * refused unless --force, which drops and recreates it (ending its connections).
 * Exit code 0 on success, 1 when refused or failed, 2 on bad usage.
 */
export async function runRestore(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { database: { type: 'string' }, force: { type: 'boolean', default: false }, 'pg-bin-dir': { type: 'string' } },
  });
  const file = positionals[0] && path.resolve(positionals[0]);
  const database = values.database;
  if (!file || !database || positionals.length > 1) return usage('a backup file and --database are required');
  const discovery = discoverStack(env);
  const { config } = discovery;
  if (!config.database.url) return usage(`${notFound(discovery, ['DATABASE_URL'])} (the server to restore into)`);
  if (!existsSync(file)) return refuse(`${file} does not exist`);
  if (discovery.stack) console.log(`restoring into the Postgres of npm start (pid ${discovery.stack.pid})`);

  const admin = withDatabase(config.database.url, 'postgres');
  const tools = await findPgTools({ major: await serverMajor(admin), configuredDir: values['pg-bin-dir'] });
  try {
    console.log(`verifying ${path.basename(file)}`);
    const entries = await verifyArchive({ tools, file, beat: progressLine('verifying') });
    console.log(`checksum and archive verified (${entries} entries)`);
  } catch (error) {
    return refuse(`${(error as Error).message}; not restoring`);
  }

  const relations = await relationsIn(admin, database);
  if (relations > 0 && !values.force) {
    return refuse(`database ${database} already holds ${relations} relations; pass --force to drop and replace it`);
  }
  if (relations > 0) {
    console.log(`--force: dropping ${database}`);
    await dropDatabase(admin, database);
  }
  await ensureDatabase(admin, database);
  try {
    console.log(`restoring into ${database}`);
    await restoreArchive({ tools, serverUrl: admin, database, file, beat: progressLine(`restoring into ${database}`) });
  } catch (error) {
    return refuse(`pg_restore failed: ${(error as Error).message}`);
  }
  await printCounts(withDatabase(admin, database));
  console.log(`restored ${path.basename(file)} into ${database}`);
  return 0;
}

async function serverMajor(url: string): Promise<number> {
  const db = createDb({ url, poolMax: 1, applicationName: 'cafe-flow-restore' });
  try {
    return Math.floor((await serverVersionNum(db)) / 10_000);
  } finally {
    await db.destroy();
  }
}

/** Relations in `database`, or 0 when it does not exist yet. */
async function relationsIn(adminUrl: string, database: string): Promise<number> {
  const admin = Knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [database]);
    if (found.rows.length === 0) return 0;
  } finally {
    await admin.destroy();
  }
  const target = createDb({ url: withDatabase(adminUrl, database), poolMax: 1, applicationName: 'cafe-flow-restore' });
  try {
    return await countUserRelations(target);
  } finally {
    await target.destroy();
  }
}

async function printCounts(url: string): Promise<void> {
  const db = createDb({ url, poolMax: 1, applicationName: 'cafe-flow-restore' });
  try {
    const present = await db('pg_tables').where({ schemaname: 'public' }).whereIn('tablename', DRILL_TABLES).pluck('tablename');
    const counts = await countRows(db, present);
    console.log(
      Object.entries(counts)
        .map(([table, n]) => `${table}=${n}`)
        .join(' '),
    );
  } finally {
    await db.destroy();
  }
}

/** A beat that prints the step and how long it has run, at most every PROGRESS_MS. */
function progressLine(label: string): Beat {
  const started = Date.now();
  let printedAt = started;
  return (progress) => {
    const now = Date.now();
    if (now - printedAt < PROGRESS_MS) return;
    printedAt = now;
    const bytes = typeof progress.bytes === 'number' ? `, ${(progress.bytes / 1024 / 1024).toFixed(1)} MiB read` : '';
    console.log(`  ${label}: ${String(progress.step)}${bytes} (${Math.round((now - started) / 1000)} s)`);
  };
}

function usage(message: string): number {
  console.error(`${message}\n${USAGE}`);
  return 2;
}

function refuse(message: string): number {
  console.error(`restore refused: ${message}`);
  return 1;
}

if (require.main === module) {
  runRestore(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
