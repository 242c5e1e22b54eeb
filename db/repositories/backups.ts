import type { Executor } from '../knex';

/** One row per backup workflow run; written only by the backup workflow's activities. */
export interface BackupRunRow {
  id: string;
  workflowId: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: 'running' | 'succeeded' | 'failed';
  file: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  verified: boolean;
  drillResult: object | null;
  archives: Array<{ database: string; file: string; sizeBytes: number; sha256: string; verified: boolean }>;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type BackupOutcome = Pick<
  BackupRunRow,
  'workflowId' | 'startedAt' | 'file' | 'sizeBytes' | 'sha256' | 'verified' | 'drillResult' | 'archives' | 'error'
> & { status: 'succeeded' | 'failed'; finishedAt: Date };

/** Records that a run began; a second call for the same workflow changes nothing. */
export async function recordBackupStarted(db: Executor, input: { workflowId: string; startedAt: Date }): Promise<boolean> {
  const inserted = await db('backupRuns')
    .insert({ workflowId: input.workflowId, startedAt: input.startedAt, status: 'running' })
    .onConflict('workflowId')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/**
 * Writes a run's outcome once. Returns false when the run was already finished, so a retried
 * activity neither overwrites the first outcome nor counts it twice in the metrics.
 */
export async function recordBackupFinished(db: Executor, outcome: BackupOutcome): Promise<boolean> {
  const values = {
    ...outcome,
    drillResult: outcome.drillResult === null ? null : JSON.stringify(outcome.drillResult),
    // Arrays must go as JSON text: node-pg would send them as a Postgres array literal.
    archives: JSON.stringify(outcome.archives),
  };
  const { workflowId: _id, startedAt: _started, ...changes } = values;
  const written = await db('backupRuns')
    .insert(values)
    .onConflict('workflowId')
    .merge({ ...changes, updatedAt: new Date() })
    .where('backup_runs.status', 'running')
    .returning('id');
  return written.length > 0;
}

export async function findBackupRun(db: Executor, workflowId: string): Promise<BackupRunRow | undefined> {
  return db('backupRuns').where({ workflowId }).first();
}

/** Archive paths of the newest run whose archives were all verified (and drilled). */
export async function newestVerifiedArchives(db: Executor): Promise<string[]> {
  const row: Pick<BackupRunRow, 'archives'> | undefined = await db('backupRuns')
    .where({ verified: true })
    .orderBy('startedAt', 'desc')
    .first('archives');
  return (row?.archives ?? []).map((archive) => archive.file);
}

export async function serverVersionNum(db: Executor): Promise<number> {
  const result = await db.raw('show server_version_num');
  return Number(result.rows[0].server_version_num);
}

/**
 * Exports the snapshot of the calling transaction, for `pg_dump --snapshot`. The transaction
 * must stay open until pg_dump has started, and be REPEATABLE READ so that whatever else it
 * reads sees the same snapshot.
 */
export async function exportSnapshot(trx: Executor): Promise<string> {
  const result = await trx.raw('select pg_export_snapshot() as snapshot');
  return result.rows[0].snapshot as string;
}

export async function countRows(db: Executor, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await db.from(table).count({ n: '*' }).first();
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Tables, views, sequences... outside the system schemas: zero means the database is empty. */
export async function countUserRelations(db: Executor): Promise<number> {
  const result = await db.raw(
    `select count(*) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')`,
  );
  return Number(result.rows[0].n);
}
