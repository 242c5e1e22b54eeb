import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { withDatabase, type Db } from '../../db/knex';
import * as backups from '../../db/repositories/backups';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import {
  BackupFailure,
  DRILL_TABLES,
  type ArchiveInfo,
  type BackupStatus,
  type DrillResult,
} from '../../workflows/maintenance/contracts';
import { dumpToArchive, drillRestore, verifyArchive, type Beat } from './archive-steps';
import { CHECKSUM_SUFFIX, archiveName, isPartial, parseArchiveName, quarantine } from './backup-files';
import { connectionParts, findPgTools, type PgTools } from './pg-tools';
import { planRetention } from './retention';

export type BackupSettings = Config['backups'] & {
  /** The application database; extra databases are reached on the same server with the same role. */
  databaseUrl: string;
  /** A directory with pg_dump/pg_restore of the server's major version, searched first. */
  pgBinDir?: string;
  /** Where versioned client installs live (Debian: /usr/lib/postgresql/<major>/bin). */
  pgSystemRoot?: string;
};

export interface BackupActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** Without settings the activities refuse to run, naming what is missing. */
  settings?: BackupSettings;
}

export interface DumpResult {
  database: string;
  file: string;
  sizeBytes: number;
  sha256: string;
  /** Row counts of DRILL_TABLES in the very snapshot pg_dump archived (application database only). */
  rowCounts?: Record<string, number>;
}

// A `.partial` this old belongs to a worker that died mid-dump: no live attempt runs that long.
const STALE_PARTIAL_MS = 12 * 3600 * 1000;

const beat: Beat = (progress) => Context.current().heartbeat(progress);

/** Activities of the backup workflow. Each is safe to retry: names and rows are keyed by the workflow. */
export function createBackupActivities({ db, logger, metrics, settings }: BackupActivityDeps) {
  let located: Promise<PgTools> | undefined;

  const required = (): BackupSettings => {
    if (settings) return settings;
    throw ApplicationFailure.create({
      type: BackupFailure.NotConfigured,
      nonRetryable: true,
      message: 'this worker was started without backup settings (ActivityDeps.backups)',
    });
  };

  /** Looked up once per worker; a failed lookup is retried next time (the package may get installed). */
  const pgTools = (): Promise<PgTools> => {
    const { pgBinDir, pgSystemRoot } = required();
    if (!located) {
      located = backups
        .serverVersionNum(db)
        .then((num) => findPgTools({ major: Math.floor(num / 10_000), configuredDir: pgBinDir, systemRoot: pgSystemRoot }));
      located.catch(() => (located = undefined));
    }
    return located;
  };

  return {
    async startBackupRun(input: { workflowId: string; startedAt: string; schedule?: string }): Promise<void> {
      await backups.recordBackupStarted(db, { workflowId: input.workflowId, startedAt: new Date(input.startedAt) });
      if (input.schedule) metrics.scheduleLastRun.set({ schedule: input.schedule }, Date.parse(input.startedAt) / 1000);
    },

    /** Dumps one database (the application's when `database` is omitted) into the backup directory. */
    async dumpDatabase(input: { database?: string; takenAt: string; tag: string }): Promise<DumpResult> {
      const { dir, databaseUrl } = required();
      const tools = await pgTools();
      const database = input.database ?? connectionParts(databaseUrl).database;
      await mkdir(dir, { recursive: true });
      const file = path.resolve(dir, archiveName(database, new Date(input.takenAt), input.tag));
      const context = Context.current();
      const target = { tools, file, attempt: context.info.attempt, signal: context.cancellationSignal, beat };
      if (input.database) {
        return { database, file, ...(await dumpToArchive({ ...target, url: withDatabase(databaseUrl, database) })) };
      }
      // The counts the drill compares against are read in the snapshot pg_dump archives: the
      // transaction exports it and stays open (REPEATABLE READ) until pg_dump is done.
      return db.transaction(
        async (trx) => {
          const snapshot = await backups.exportSnapshot(trx);
          const rowCounts = await backups.countRows(trx, DRILL_TABLES);
          const archived = await dumpToArchive({ ...target, url: databaseUrl, snapshot });
          return { database, file, ...archived, rowCounts };
        },
        { isolationLevel: 'repeatable read', readOnly: true },
      );
    },

    async verifyBackup(input: { file: string; sha256: string }): Promise<{ entries: number }> {
      return { entries: await verifyArchive({ tools: await pgTools(), file: input.file, sha256: input.sha256, beat }) };
    },

    /** Restores the archive into a scratch database and compares its row counts with the dump's. */
    async restoreDrill(input: { workflowId: string; file: string; expected: Record<string, number> }): Promise<DrillResult> {
      const { databaseUrl } = required();
      const started = Date.now();
      const scratchDatabase = `cafe_flow_drill_${createHash('sha256').update(input.workflowId).digest('hex').slice(0, 16)}`;
      const tables = Object.keys(input.expected);
      const restored = await drillRestore({
        tools: await pgTools(),
        serverUrl: databaseUrl,
        database: scratchDatabase,
        file: input.file,
        tables,
        signal: Context.current().cancellationSignal,
        beat,
      });
      const results = tables.map((table) => ({ table, expected: input.expected[table]!, restored: restored[table]! }));
      return {
        scratchDatabase,
        matched: results.every((result) => result.expected === result.restored),
        tables: results,
        durationMs: Date.now() - started,
      };
    },

    /** Moves a rejected archive out of the good-looking set; returns its new path. */
    async quarantineBackup(input: { file: string; reason: string }): Promise<string> {
      const moved = await quarantine(input.file);
      logger.warn({ file: input.file, moved, reason: input.reason }, 'backup archive rejected');
      return moved;
    },

    pruneBackups,

    async finishBackupRun(input: {
      workflowId: string;
      startedAt: string;
      finishedAt: string;
      status: Exclude<BackupStatus, 'running'>;
      verified: boolean;
      archives: ArchiveInfo[];
      drill: DrillResult | null;
      error: string | null;
    }): Promise<void> {
      const main = input.archives[0];
      const first = await backups.recordBackupFinished(db, {
        workflowId: input.workflowId,
        startedAt: new Date(input.startedAt),
        finishedAt: new Date(input.finishedAt),
        status: input.status,
        file: main?.file ?? null,
        sizeBytes: main?.sizeBytes ?? null,
        sha256: main?.sha256 ?? null,
        verified: input.verified,
        drillResult: input.drill,
        archives: input.archives,
        error: input.error,
      });
      if (!first) return;
      const finishedAt = Date.parse(input.finishedAt);
      metrics.backupDuration.set((finishedAt - Date.parse(input.startedAt)) / 1000);
      metrics.backupRuns.inc({ result: input.status === 'succeeded' ? 'success' : 'failure' });
      if (input.status === 'failed') {
        metrics.backupFailures.inc();
        return;
      }
      metrics.backupLastSuccess.set(finishedAt / 1000);
      if (main) metrics.backupSize.set(main.sizeBytes);
    },
  };

  /**
   * Applies the retention rules to the finished archives in the backup directory (those with a
   * checksum beside them), and clears leftovers: checksums without an archive, stale `.partial`
   * files. Files that do not follow the naming scheme are never touched.
   */
  async function pruneBackups(input: { protect: string[] }): Promise<{ kept: string[]; deleted: string[] }> {
    const { dir, keepDaily, keepWeekly, timezone } = required();
    const names = new Set(await readdir(dir).catch(() => [] as string[]));
    const finished = [...names]
      .filter((name) => names.has(`${name}${CHECKSUM_SUFFIX}`))
      .flatMap((name) => parseArchiveName(name) ?? []);
    const recordedGood = await backups.newestVerifiedArchives(db);
    const plan = planRetention(finished, {
      keepDaily,
      keepWeekly,
      timezone,
      protect: [...input.protect, ...recordedGood].map((file) => path.basename(file)),
    });
    const deleted: string[] = [];
    const remove = async (name: string) => {
      await rm(path.join(dir, name), { force: true });
      deleted.push(name);
      beat({ step: 'prune', deleted: deleted.length });
    };
    for (const name of plan.drop) {
      // Checksum first: an archive left without one no longer looks good if we stop halfway.
      await remove(`${name}${CHECKSUM_SUFFIX}`);
      await remove(name);
    }
    for (const name of names) {
      const orphanChecksum = name.endsWith(CHECKSUM_SUFFIX) && !names.has(name.slice(0, -CHECKSUM_SUFFIX.length));
      if (orphanChecksum && parseArchiveName(name.slice(0, -CHECKSUM_SUFFIX.length))) await remove(name);
      if (isPartial(name) && (await isStale(path.join(dir, name)))) await remove(name);
    }
    logger.info({ dir, kept: plan.keep.length, deleted }, 'backups pruned');
    return { kept: plan.keep, deleted };
  }
}

async function isStale(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return !!info && Date.now() - info.mtimeMs > STALE_PARTIAL_MS;
}
