import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../lib/config';
import { pruneNotificationsDailySchedule } from '../workflows/maintenance/prune-notifications';
import { backupDailySchedule } from '../workflows/maintenance/schedules';
import { smokeHourlySchedule } from '../workflows/maintenance/smoke-schedule';

export interface ScheduleExtras {
  /** Databases archived with the application's on every scheduled backup. */
  extraDatabases?: string[];
}

/** Every schedule; each starts its workflow on the maintenance task queue. */
export function maintenanceSchedules(config: Config, extras: ScheduleExtras = {}): ScheduleOptions[] {
  return [
    backupDailySchedule({
      taskQueue: config.temporal.maintenanceTaskQueue,
      timezone: config.backups.timezone,
      extraDatabases: extras.extraDatabases ?? config.backups.extraDatabases,
    }),
    pruneNotificationsDailySchedule({
      taskQueue: config.temporal.maintenanceTaskQueue,
      timezone: config.backups.timezone,
      olderThanDays: config.webhooks.retentionDays,
    }),
    // Only where there is a deployment to check: a worker without SMOKE_BASE_URL schedules none.
    ...(config.smoke.baseUrl
      ? [smokeHourlySchedule({ taskQueue: config.temporal.maintenanceTaskQueue, ...config.smoke, baseUrl: config.smoke.baseUrl })]
      : []),
  ];
}

export interface EnsuredSchedule {
  scheduleId: string;
  created: boolean;
}

/**
 * Creates each schedule, or brings an existing one in line with the code: safe to run on every
 * worker start and from `npm run schedules`, concurrently too. An operator's pause (and its
 * note) survives the update.
 */
export async function ensureSchedules(client: Client, config: Config, extras: ScheduleExtras = {}): Promise<EnsuredSchedule[]> {
  const ensured: EnsuredSchedule[] = [];
  for (const schedule of maintenanceSchedules(config, extras)) {
    try {
      await client.schedule.create(schedule);
      ensured.push({ scheduleId: schedule.scheduleId, created: true });
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({
        spec: schedule.spec,
        action: schedule.action,
        policies: schedule.policies,
        state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
      }));
      ensured.push({ scheduleId: schedule.scheduleId, created: false });
    }
  }
  return ensured;
}
