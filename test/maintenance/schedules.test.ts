import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { expect } from 'chai';
import { BACKUP_SCHEDULE_ID } from '../../workflows/maintenance/contracts';
import { PRUNE_NOTIFICATIONS_SCHEDULE_ID } from '../../workflows/maintenance/prune-notifications';
import { ensureSchedules } from '../../workers/schedules';
import { testConfig } from '../support/env';
import { codecClient, temporalDevServer, uniqueTaskQueue } from '../support/temporal';

async function deleteIfPresent(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

/** Schedule listing goes through visibility, which lags behind writes: poll until it settles. */
async function listedIds(client: Client, expected: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ids: string[] = [];
    for await (const schedule of client.schedule.list())
      if (schedule.scheduleId === BACKUP_SCHEDULE_ID) ids.push(schedule.scheduleId);
    if (ids.length >= expected || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('maintenance schedules', () => {
  let client: Client;
  before(async function () {
    this.timeout(120_000);
    // As the worker's client: schedules other tests' workers made carry encrypted arguments.
    client = codecClient(await temporalDevServer(), testConfig().temporal.payloadKeys);
    // The shared dev server may hold them from another test's worker start-up.
    await deleteIfPresent(client, BACKUP_SCHEDULE_ID);
    await deleteIfPresent(client, PRUNE_NOTIFICATIONS_SCHEDULE_ID);
  });
  after(async () => {
    await deleteIfPresent(client, BACKUP_SCHEDULE_ID);
    await deleteIfPresent(client, PRUNE_NOTIFICATIONS_SCHEDULE_ID);
  });

  it('when ensureSchedules runs twice, then backup-daily exists once, at 03:00 in the backup time zone, skipping overlaps', async function () {
    this.timeout(30_000);
    const taskQueue = uniqueTaskQueue('schedules');
    const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, BACKUP_TIMEZONE: 'America/Argentina/Buenos_Aires' });

    const first = await ensureSchedules(client, config);
    const second = await ensureSchedules(client, config);

    expect(first).to.deep.equal([
      { scheduleId: BACKUP_SCHEDULE_ID, created: true },
      { scheduleId: PRUNE_NOTIFICATIONS_SCHEDULE_ID, created: true },
    ]);
    expect(second).to.deep.equal([
      { scheduleId: BACKUP_SCHEDULE_ID, created: false },
      { scheduleId: PRUNE_NOTIFICATIONS_SCHEDULE_ID, created: false },
    ]);
    expect(await listedIds(client, 1)).to.deep.equal([BACKUP_SCHEDULE_ID]);
    const description = await client.schedule.getHandle(BACKUP_SCHEDULE_ID).describe();
    expect(description.spec.timezone).to.equal('America/Argentina/Buenos_Aires');
    expect(description.spec.calendars).to.have.length(1);
    expect(description.spec.calendars![0]).to.deep.include({
      hour: [{ start: 3, end: 3, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(description.policies.overlap).to.equal('SKIP');
    expect(description.policies.catchupWindow).to.equal(4 * 3600 * 1000);
    expect(description.action, 'maintenance runs apart from the orders queue').to.deep.include({
      workflowType: 'backupDatabase',
      taskQueue: `${taskQueue}-maintenance`,
    });
    expect(description.action.args).to.deep.equal([{ extraDatabases: [], schedule: BACKUP_SCHEDULE_ID }]);
    const next = description.info.nextActionTimes[0]!;
    expect(next.getUTCHours(), '03:00 in Buenos Aires is 06:00 UTC').to.equal(6);
  });

  it('when the code changes and an operator paused the schedule, then ensureSchedules updates it and keeps it paused', async function () {
    this.timeout(30_000);
    const config = testConfig({ TEMPORAL_TASK_QUEUE: uniqueTaskQueue('schedules'), BACKUP_TIMEZONE: 'UTC' });
    await ensureSchedules(client, config);
    await client.schedule.getHandle(BACKUP_SCHEDULE_ID).pause('disk replaced tonight');

    const changed = testConfig({ TEMPORAL_TASK_QUEUE: config.temporal.taskQueue, BACKUP_TIMEZONE: 'Europe/Madrid' });
    const ensured = await ensureSchedules(client, changed, { extraDatabases: ['temporal', 'temporal_visibility'] });

    expect(ensured.find((entry) => entry.scheduleId === BACKUP_SCHEDULE_ID)).to.deep.equal({
      scheduleId: BACKUP_SCHEDULE_ID,
      created: false,
    });
    const description = await client.schedule.getHandle(BACKUP_SCHEDULE_ID).describe();
    expect(description.spec.timezone).to.equal('Europe/Madrid');
    expect(description.action.args).to.deep.equal([
      { extraDatabases: ['temporal', 'temporal_visibility'], schedule: BACKUP_SCHEDULE_ID },
    ]);
    expect(description.state).to.deep.include({ paused: true, note: 'disk replaced tonight' });
  });
});
