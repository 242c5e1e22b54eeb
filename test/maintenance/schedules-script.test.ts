import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { expect } from 'chai';
import { BACKUP_SCHEDULE_ID } from '../../workflows/maintenance/contracts';
import { testConfig, testDatabaseUrl } from '../support/env';
import { codecClient, temporalDevServer, uniqueTaskQueue } from '../support/temporal';
import { runOperatorScript, writeTestStackFile } from './operator-support';
import { removeTempDirs } from './support';

async function deleteIfPresent(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

describe('npm run schedules next to npm start', () => {
  let client: Client;
  let address: string;

  before(async function () {
    this.timeout(120_000);
    const env = await temporalDevServer();
    // Reads the schedule's arguments as the script wrote them: encrypted.
    client = codecClient(env, testConfig().temporal.payloadKeys);
    address = env.address;
    // The shared dev server may hold one from another test's worker start-up.
    await deleteIfPresent(client, BACKUP_SCHEDULE_ID);
  });
  after(async () => {
    await deleteIfPresent(client, BACKUP_SCHEDULE_ID);
    await removeTempDirs();
  });

  it('when TEMPORAL_ADDRESS is unset, then it creates backup-daily on the maintenance queue of the stack it finds', async function () {
    this.timeout(60_000);
    const maintenanceTaskQueue = uniqueTaskQueue('schedules-maintenance');
    const stackFile = await writeTestStackFile({
      temporal: { address, namespace: 'default', taskQueue: uniqueTaskQueue('schedules-orders'), maintenanceTaskQueue },
      databaseUrl: testDatabaseUrl(),
      apiUrl: 'http://127.0.0.1:9',
    });

    const run = await runOperatorScript('schedules.ts', [], stackFile);

    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(`using the stack of npm start (pid ${process.pid}): Temporal ${address}`);
    expect(run.stdout).to.match(new RegExp(`^${BACKUP_SCHEDULE_ID}: created$`, 'm'));
    const description = await client.schedule.getHandle(BACKUP_SCHEDULE_ID).describe();
    expect(description.action).to.deep.include({ workflowType: 'backupDatabase', taskQueue: maintenanceTaskQueue });
  });

  it('when neither TEMPORAL_ADDRESS nor a running stack is there, then it says to start npm start or set the variable', async function () {
    this.timeout(30_000);
    const run = await runOperatorScript('schedules.ts', [], '/nonexistent/stack.json');

    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('start the stack with npm start or set TEMPORAL_ADDRESS');
  });
});
