import type { ScheduleOptions } from '@temporalio/client';
import { BACKUP_SCHEDULE_ID, BACKUP_WORKFLOW_TYPE, SCHEDULED_BACKUP_WORKFLOW_ID, type BackupInput } from './contracts';

/**
 * The maintenance schedules as plain data: workers/schedules.ts creates or updates them on the
 * Temporal server. Only types come from the client, so this file stays free of I/O.
 */

export interface BackupScheduleSettings {
  taskQueue: string;
  /** IANA zone of the café's night: 03:00 there, whatever the server's zone. */
  timezone: string;
  extraDatabases?: string[];
}

export function backupDailySchedule(settings: BackupScheduleSettings): ScheduleOptions {
  const input: BackupInput = { extraDatabases: settings.extraDatabases ?? [], schedule: BACKUP_SCHEDULE_ID };
  return {
    scheduleId: BACKUP_SCHEDULE_ID,
    spec: {
      calendars: [{ hour: 3, minute: 0, comment: 'daily at 03:00, before the cafés open' }],
      timezone: settings.timezone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: BACKUP_WORKFLOW_TYPE,
      args: [input],
      taskQueue: settings.taskQueue,
      // The schedule appends the nominal time: backup:scheduled-2026-11-28T06:00:00Z.
      workflowId: SCHEDULED_BACKUP_WORKFLOW_ID,
      // Far beyond a normal run; a stuck run must not block the next night's (overlap is SKIP).
      workflowExecutionTimeout: '20 hours',
    },
    policies: {
      // Two dumps at once only double the load; the one running will produce the backup.
      overlap: 'SKIP',
      // After an outage, a run up to 4 h late (07:00) still happens; later than that it would
      // compete with the morning rush, and the next night's run comes soon enough.
      catchupWindow: '4 hours',
      pauseOnFailure: false,
    },
  };
}
