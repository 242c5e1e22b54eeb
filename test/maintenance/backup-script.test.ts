import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { createDb, type Db } from '../../db/knex';
import { createMetrics } from '../../lib/metrics';
import { BackupFailure } from '../../workflows/maintenance/contracts';
import { createWorker } from '../../workers/worker';
import { testDatabaseUrl } from '../support/env';
import { temporalDevServer, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { backupSettings, runScript, seedCafe, removeTempDirs, tempDir, workerActivities, type ScriptRun } from './support';

describe('npm run backup', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    env = await temporalDevServer();
    db = createDb({ url: testDatabaseUrl(), poolMax: 5 });
    await seedCafe(db);
  });
  after(async () => {
    await db?.destroy();
    await removeTempDirs();
  });

  /** The CLI in a process of its own, against a worker polling a task queue of the test's own. */
  async function backupWithWorker(args: string[]): Promise<{ result: ScriptRun; dir: string }> {
    const dir = await tempDir('backup-cli');
    const taskQueue = uniqueTaskQueue('backup-cli');
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: workerActivities({
        db,
        metrics: createMetrics({ defaultMetrics: false }),
        temporal: env.client,
        settings: backupSettings(dir),
      }),
      workflowBundle: await workflowBundle(),
    });
    const result = await worker.runUntil(
      runScript('backup.ts', args, { TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue }),
    );
    return { result, dir };
  }

  it('when a backup is started by hand, then the CLI prints its progress and the verified archive and exits 0', async function () {
    this.timeout(90_000);
    const { result, dir } = await backupWithWorker([]);

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^backup started: workflow backup:manual:/m);
    expect(result.stdout).to.match(/^ {2}(starting|dumping|verifying|drilling|pruning|recording|succeeded)\b/m);
    expect(result.stdout).to.match(/^restore drill matched: users=\d+ businesses=\d+ products=\d+ orders=\d+/m);
    const file = /^archive (\S+\.dump) /m.exec(result.stdout)?.[1];
    expect(file).to.be.a('string');
    expect(file!.startsWith(dir)).to.equal(true);
    expect(existsSync(file!)).to.equal(true);
    expect(existsSync(`${file}.sha256`)).to.equal(true);
  });

  it('when the backup fails, then the CLI prints the failure type and exits 1', async function () {
    this.timeout(90_000);
    const missing = `cafe_flow_missing_${randomBytes(4).toString('hex')}`;
    const { result } = await backupWithWorker(['--extra-databases', missing]);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(`backup failed: ${BackupFailure.DatabaseNotFound}`);
    expect(result.stderr).to.contain(missing);
  });
});
