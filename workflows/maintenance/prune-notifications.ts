import type { ScheduleOptions } from '@temporalio/client';
import { proxyActivities } from '@temporalio/workflow';
import type { createPruneActivities } from '../../activities/maintenance/prune-activities';

export const PRUNE_NOTIFICATIONS_SCHEDULE_ID = 'prune-webhook-notifications-daily';

export interface PruneNotificationsInput {
  olderThanDays: number;
}

const store = proxyActivities<ReturnType<typeof createPruneActivities>>({
  // One indexed delete; retried while the database is away, for up to the day until the next run.
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '20 hours',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** Retention for stored webhook notifications: processed ones past the window go, pending ones never. */
export async function pruneWebhookNotifications(input: PruneNotificationsInput): Promise<{ deleted: number }> {
  return store.pruneWebhookNotifications(input);
}

export function pruneNotificationsDailySchedule(settings: {
  taskQueue: string;
  timezone: string;
  olderThanDays: number;
}): ScheduleOptions {
  const input: PruneNotificationsInput = { olderThanDays: settings.olderThanDays };
  return {
    scheduleId: PRUNE_NOTIFICATIONS_SCHEDULE_ID,
    spec: { calendars: [{ hour: 4, minute: 30, comment: 'daily at 04:30, after the backup' }], timezone: settings.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'pruneWebhookNotifications',
      args: [input],
      taskQueue: settings.taskQueue,
      workflowId: 'prune-webhook-notifications:scheduled',
    },
    policies: { overlap: 'SKIP', catchupWindow: '12 hours', pauseOnFailure: false },
  };
}
