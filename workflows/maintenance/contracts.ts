import { defineQuery } from '@temporalio/workflow';

/**
 * What the backup workflow, its activities, the schedule and the backup/restore scripts share.
 * Imports nothing with side effects, so the workflow bundle and the scripts can both load it.
 */

export const BACKUP_WORKFLOW_TYPE = 'backupDatabase';
export const BACKUP_SCHEDULE_ID = 'backup-daily';

/** A manual run gets its own id; scheduled runs get `backup:scheduled-<time>` from the schedule. */
export const manualBackupWorkflowId = (at: Date) => `backup:manual:${at.toISOString()}`;
export const SCHEDULED_BACKUP_WORKFLOW_ID = 'backup:scheduled';

/** The tables the restore drill counts: the ones a café would miss first. */
export const DRILL_TABLES = ['users', 'businesses', 'products', 'orders', 'order_items', 'order_events'] as const;

export interface BackupInput {
  /**
   * Databases on the same server to archive besides the application's (e.g. Temporal's `temporal`
   * and `temporal_visibility`). They are dumped and verified, but only the application database
   * goes through the restore drill, since only its tables are known here.
   */
  extraDatabases?: string[];
  /** The schedule that started this run, for `schedule_last_run_timestamp_seconds`. */
  schedule?: string;
}

export interface ArchiveInfo {
  database: string;
  /** Absolute path of the archive; its checksum is `<file>.sha256`. */
  file: string;
  sizeBytes: number;
  sha256: string;
  verified: boolean;
}

export interface DrillTableResult {
  table: string;
  expected: number;
  restored: number;
}

export interface DrillResult {
  scratchDatabase: string;
  matched: boolean;
  tables: DrillTableResult[];
  durationMs: number;
}

export type BackupPhase = 'starting' | 'dumping' | 'verifying' | 'drilling' | 'pruning' | 'recording' | 'succeeded' | 'failed';

export interface BackupProgress {
  phase: BackupPhase;
  /** The database being worked on, during dumping/verifying/drilling. */
  database?: string;
  archives: ArchiveInfo[];
  drill?: DrillResult;
  pruned?: string[];
  error?: string;
}

export interface BackupResult {
  workflowId: string;
  archives: ArchiveInfo[];
  drill: DrillResult;
  pruned: string[];
}

export type BackupStatus = 'running' | 'succeeded' | 'failed';

export const backupProgressQuery = defineQuery<BackupProgress>('progress');

/** Failure types: exported constants, since class names do not survive bundling. */
export const BackupFailure = {
  /** No pg_dump/pg_restore of the server's major version could be found. */
  PgToolsNotFound: 'BackupPgToolsNotFound',
  DatabaseNotFound: 'BackupDatabaseNotFound',
  /** pg_dump or pg_restore exited with an error that a retry may fix (connection lost...). */
  DumpFailed: 'BackupDumpFailed',
  ChecksumMismatch: 'BackupChecksumMismatch',
  CorruptArchive: 'BackupCorruptArchive',
  DrillFailed: 'BackupDrillFailed',
  DrillMismatch: 'BackupDrillMismatch',
  NotConfigured: 'BackupNotConfigured',
  Failed: 'BackupFailed',
} as const;

/** Failures no retry can fix: the workflow stops at once and records the run as failed. */
export const NON_RETRYABLE_BACKUP_FAILURES = [
  BackupFailure.PgToolsNotFound,
  BackupFailure.DatabaseNotFound,
  BackupFailure.ChecksumMismatch,
  BackupFailure.CorruptArchive,
  BackupFailure.DrillMismatch,
  BackupFailure.NotConfigured,
];
