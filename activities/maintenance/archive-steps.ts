import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createDb, dropDatabase, ensureDatabase, withDatabase } from '../../db/knex';
import { countRows } from '../../db/repositories/backups';
import { BackupFailure } from '../../workflows/maintenance/contracts';
import { PARTIAL_SUFFIX, fsyncDir, fsyncPath, readChecksum, sha256File, writeChecksum } from './backup-files';
import { PgToolError, runPgTool, withPgEnv, type PgTools } from './pg-tools';

/**
 * The file-level steps of a backup, free of Temporal and metrics so the restore script can reuse
 * them. `beat` is called with progress while a step runs (activities heartbeat with it).
 */
export type Beat = (progress: Record<string, unknown>) => void;

export interface DumpTarget {
  tools: PgTools;
  /** URL of the database to dump (credentials are handed to pg_dump through a passfile). */
  url: string;
  /** Final path of the archive; the dump is written beside it under `<file>.<attempt>.partial`. */
  file: string;
  attempt: number;
  /** An exported snapshot the dump must see (`pg_dump --snapshot`). */
  snapshot?: string;
  signal?: AbortSignal;
  beat: Beat;
}

/**
 * pg_dump into a temporary name, then checksum, then the atomic rename: a file under the final
 * name with a checksum beside it is always a complete dump. On any failure the temporary file
 * is removed; if the process dies instead, the `.partial` name gives it away and pruning
 * removes it later.
 */
export async function dumpToArchive(target: DumpTarget): Promise<{ sizeBytes: number; sha256: string }> {
  const partial = `${target.file}.${target.attempt}${PARTIAL_SUFFIX}`;
  const args = [
    '--format=custom',
    `--file=${partial}`,
    '--no-password',
    // A migration holding an exclusive lock makes pg_dump fail (and the activity retry) instead of hanging.
    '--lock-wait-timeout=120s',
    ...(target.snapshot ? [`--snapshot=${target.snapshot}`] : []),
  ];
  try {
    await withPgEnv(target.url, (env) =>
      runPgTool(target.tools.pgDump, args, {
        env,
        signal: target.signal,
        onTick: async () => target.beat({ step: 'dump', bytes: (await stat(partial).catch(() => undefined))?.size ?? 0 }),
      }),
    );
    await fsyncPath(partial);
    const sha256 = await sha256File(partial, (bytes) => target.beat({ step: 'checksum', bytes }));
    const { size } = await stat(partial);
    await writeChecksum(target.file, sha256);
    await rename(partial, target.file);
    await fsyncDir(path.dirname(target.file));
    return { sizeBytes: size, sha256 };
  } catch (error) {
    await rm(partial, { force: true });
    throw asDumpFailure(error);
  }
}

function asDumpFailure(error: unknown): unknown {
  if (!(error instanceof PgToolError)) return error;
  if (/database ".*" does not exist/.test(error.stderr)) {
    return ApplicationFailure.create({ type: BackupFailure.DatabaseNotFound, nonRetryable: true, message: error.message });
  }
  // Lost connections, lock timeouts, a killed process: another attempt may well succeed.
  return ApplicationFailure.retryable(error.message, BackupFailure.DumpFailed);
}

/**
 * Proves the archive on disk is the one pg_dump wrote and that pg_restore can read it: the
 * SHA-256 against the checksum file and the dump's own result, the table of contents
 * (`pg_restore --list`), then a read of every data block into /dev/null, since --list alone
 * reads only the header and would pass a truncated archive.
 */
export async function verifyArchive(input: { tools: PgTools; file: string; sha256?: string; beat: Beat }): Promise<number> {
  const recorded = await readChecksum(input.file);
  let actual: string;
  try {
    actual = await sha256File(input.file, (bytes) => input.beat({ step: 'checksum', bytes }));
  } catch (error) {
    throw corrupt(`the archive ${input.file} cannot be read: ${(error as Error).message}`);
  }
  const expected = input.sha256 ?? recorded;
  if (!recorded || actual !== recorded || actual !== expected) {
    throw ApplicationFailure.create({
      type: BackupFailure.ChecksumMismatch,
      nonRetryable: true,
      message: `checksum mismatch for ${input.file}: computed ${actual}, checksum file ${recorded ?? 'missing'}`,
      details: [{ file: input.file, actual, recorded: recorded ?? null, expected: expected ?? null }],
    });
  }
  const onTick = () => input.beat({ step: 'pg_restore' });
  try {
    const { stdout } = await runPgTool(input.tools.pgRestore, ['--list', input.file], { env: {}, captureStdout: true, onTick });
    const entries = stdout.split('\n').filter((line) => line.trim() && !line.startsWith(';')).length;
    if (entries === 0) throw corrupt(`pg_restore --list found no entries in ${input.file}`);
    await runPgTool(input.tools.pgRestore, ['--file=/dev/null', input.file], { env: {}, onTick });
    return entries;
  } catch (error) {
    if (error instanceof PgToolError) throw corrupt(`pg_restore cannot read ${input.file}: ${error.message}`);
    throw error;
  }
}

const corrupt = (message: string) =>
  ApplicationFailure.create({ type: BackupFailure.CorruptArchive, nonRetryable: true, message });

export interface RestoreTarget {
  tools: PgTools;
  /** Any database URL on the target server: used to create and drop the target. */
  serverUrl: string;
  database: string;
  file: string;
  signal?: AbortSignal;
  beat: Beat;
}

/** pg_restore into `database`, which must exist; objects are owned by the connecting role. */
export async function restoreArchive(target: RestoreTarget): Promise<void> {
  const args = ['--no-owner', '--no-privileges', '--exit-on-error', '--no-password', `--dbname=${target.database}`, target.file];
  await withPgEnv(withDatabase(target.serverUrl, target.database), (env) =>
    runPgTool(target.tools.pgRestore, args, { env, signal: target.signal, onTick: () => target.beat({ step: 'restore' }) }),
  );
}

/**
 * Restores the archive into a scratch database, counts `tables` there and drops it again.
 * The scratch database is dropped first too, so a retried drill starts clean.
 */
export async function drillRestore(target: RestoreTarget & { tables: string[] }): Promise<Record<string, number>> {
  await dropDatabase(target.serverUrl, target.database);
  await ensureDatabase(target.serverUrl, target.database);
  try {
    await restoreArchive(target);
    const scratch = createDb({
      url: withDatabase(target.serverUrl, target.database),
      poolMax: 1,
      applicationName: 'cafe-flow-drill',
    });
    try {
      return await countRows(scratch, target.tables);
    } finally {
      await scratch.destroy();
    }
  } finally {
    await dropDatabase(target.serverUrl, target.database);
  }
}
