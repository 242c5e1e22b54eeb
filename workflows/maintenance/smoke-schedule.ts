import type { ScheduleOptions } from '@temporalio/client';
import { SCHEDULED_SMOKE_WORKFLOW_ID, SMOKE_SCHEDULE_ID, SMOKE_WORKFLOW_TYPE, type SmokeInput } from './smoke-contracts';

/** The smoke-hourly schedule as plain data; workers/schedules.ts creates or updates it. */

export interface SmokeScheduleSettings {
  taskQueue: string;
  baseUrl: string;
  p95Ms: number;
  emulatorUrl?: string;
  rateLimitBurst: number;
}

export function smokeHourlySchedule(settings: SmokeScheduleSettings): ScheduleOptions {
  const input: SmokeInput = {
    baseUrl: settings.baseUrl,
    p95Ms: settings.p95Ms,
    rateLimitBurst: settings.rateLimitBurst,
    schedule: SMOKE_SCHEDULE_ID,
    ...(settings.emulatorUrl ? { emulatorUrl: settings.emulatorUrl } : {}),
  };
  return {
    scheduleId: SMOKE_SCHEDULE_ID,
    spec: {
      // Off the hour: away from the backup at 03:00 and from whatever else runs on the hour.
      intervals: [{ every: '1 hour', offset: '17 minutes' }],
    },
    action: {
      type: 'startWorkflow',
      workflowType: SMOKE_WORKFLOW_TYPE,
      args: [input],
      taskQueue: settings.taskQueue,
      // The schedule appends the nominal time: smoke:scheduled-2026-11-28T10:17:00Z.
      workflowId: SCHEDULED_SMOKE_WORKFLOW_ID,
      // A run takes a minute or two; one that cannot finish in 15 minutes is stuck, not slow.
      workflowExecutionTimeout: '15 minutes',
    },
    policies: {
      // A run still going when the next is due says enough; a second one would only add load.
      overlap: 'SKIP',
      // After an outage one late run is useful, a backlog of stale ones is not.
      catchupWindow: '10 minutes',
      pauseOnFailure: false,
    },
  };
}
