import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBackupActivities } from '../../activities/maintenance/backup-activities';
import {
  BackupFailure,
  NON_RETRYABLE_BACKUP_FAILURES,
  backupProgressQuery,
  type ArchiveInfo,
  type BackupInput,
  type BackupPhase,
  type BackupProgress,
  type BackupResult,
  type DrillResult,
} from './contracts';

type BackupActivities = ReturnType<typeof createBackupActivities>;

const records = proxyActivities<BackupActivities>({
  // Small writes to Postgres and renames: retried until they land, so every run is recorded.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const dumping = proxyActivities<BackupActivities>({
  // A dump of a few GB takes minutes; the heartbeat (every 5 s) notices a dead worker within a minute.
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_BACKUP_FAILURES,
  },
});

const checking = proxyActivities<BackupActivities>({
  // Reads the archive twice (hash, pg_restore); a mismatch is final, an I/O hiccup is not.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_BACKUP_FAILURES },
});

const drilling = proxyActivities<BackupActivities>({
  // A full restore plus counts; one retry covers a dropped connection.
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '30 seconds', maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE_BACKUP_FAILURES },
});

const pruning = proxyActivities<BackupActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

interface Run {
  workflowId: string;
  startedAt: string;
  /** Distinguishes two runs started in the same second in the archive names. */
  tag: string;
  /** Every database of the run archived, verified and (application) drilled. */
  verified: boolean;
  progress: BackupProgress;
}

/**
 * A verified backup: pg_dump of the application database (and of `extraDatabases`), checksum,
 * pg_restore readability, a restore drill whose row counts must match the dump's snapshot, then
 * retention pruning. Every run ends recorded in backup_runs, succeeded or failed.
 */
export async function backupDatabase(input: BackupInput = {}): Promise<BackupResult> {
  const run = begin();
  setHandler(backupProgressQuery, () => ({ ...run.progress, archives: run.progress.archives.map((a) => ({ ...a })) }));
  await records.startBackupRun({ workflowId: run.workflowId, startedAt: run.startedAt, schedule: input.schedule });
  try {
    const drill = await archive(run);
    for (const database of input.extraDatabases ?? []) await archive(run, database);
    run.verified = true;
    step(run, 'pruning');
    const { deleted } = await pruning.pruneBackups({ protect: run.progress.archives.map((a) => a.file) });
    run.progress.pruned = deleted;
    await finish(run, 'succeeded');
    return { workflowId: run.workflowId, archives: run.progress.archives, drill: drill!, pruned: deleted };
  } catch (error) {
    const failure = asBackupFailure(error);
    run.progress.error = `${failure.type}: ${failure.message}`;
    // Recorded even when the run is being cancelled: the row must not stay 'running'.
    await CancellationScope.nonCancellable(() => finish(run, 'failed'));
    throw isCancellation(error) ? error : failure;
  }
}

function begin(): Run {
  const info = workflowInfo();
  return {
    workflowId: info.workflowId,
    startedAt: new Date(Date.now()).toISOString(),
    tag: info.runId.replace(/-/g, '').slice(0, 8),
    verified: false,
    progress: { phase: 'starting', archives: [] },
  };
}

function step(run: Run, phase: BackupPhase, database?: string): void {
  run.progress.phase = phase;
  run.progress.database = database;
}

/** One database: dump, verify and (application database only) drill. A rejected archive is quarantined. */
async function archive(run: Run, database?: string): Promise<DrillResult | undefined> {
  step(run, 'dumping', database ?? 'application');
  const dump = await dumping.dumpDatabase({ database, takenAt: run.startedAt, tag: run.tag });
  const info: ArchiveInfo = {
    database: dump.database,
    file: dump.file,
    sizeBytes: dump.sizeBytes,
    sha256: dump.sha256,
    verified: false,
  };
  run.progress.archives.push(info);
  try {
    step(run, 'verifying', dump.database);
    await checking.verifyBackup({ file: dump.file, sha256: dump.sha256 });
    const drill = dump.rowCounts ? await drillInto(run, dump.database, dump.file, dump.rowCounts) : undefined;
    info.verified = true;
    return drill;
  } catch (error) {
    info.file = await CancellationScope.nonCancellable(() =>
      records.quarantineBackup({ file: dump.file, reason: asBackupFailure(error).message }),
    );
    throw error;
  }
}

async function drillInto(run: Run, database: string, file: string, expected: Record<string, number>): Promise<DrillResult> {
  step(run, 'drilling', database);
  const drill = await drilling.restoreDrill({ workflowId: run.workflowId, file, expected });
  run.progress.drill = drill;
  if (!drill.matched) {
    const differing = drill.tables.filter((t) => t.expected !== t.restored).map((t) => `${t.table} ${t.restored}/${t.expected}`);
    throw ApplicationFailure.create({
      type: BackupFailure.DrillMismatch,
      nonRetryable: true,
      message: `the restored copy of ${database} differs from the dump's snapshot (restored/expected): ${differing.join(', ')}`,
      details: [drill],
    });
  }
  return drill;
}

async function finish(run: Run, status: 'succeeded' | 'failed'): Promise<void> {
  step(run, 'recording');
  await records.finishBackupRun({
    workflowId: run.workflowId,
    startedAt: run.startedAt,
    finishedAt: new Date(Date.now()).toISOString(),
    status,
    verified: run.verified,
    archives: run.progress.archives,
    drill: run.progress.drill ?? null,
    error: run.progress.error ?? null,
  });
  step(run, status);
}

/** The workflow fails with the step's own failure type on top, so callers need not dig. */
function asBackupFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error;
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return ApplicationFailure.create({
    type: cause instanceof ApplicationFailure ? (cause.type ?? BackupFailure.Failed) : BackupFailure.Failed,
    nonRetryable: true,
    message,
    details: cause instanceof ApplicationFailure ? (cause.details ?? undefined) : undefined,
    cause: error instanceof Error ? error : undefined,
  });
}
