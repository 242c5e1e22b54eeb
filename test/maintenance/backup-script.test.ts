import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { createDb, type Db } from '../../db/knex';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { payloadDataConverter } from '../../lib/payload-codec';
import { BackupFailure } from '../../workflows/maintenance/contracts';
import { createQueueWorkers } from '../../workers/queues';
import { createWorker } from '../../workers/worker';
import { testConfig, testDatabaseUrl } from '../support/env';
import { temporalDevServer, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { deadPid, runOperatorScript, writeTestStackFile } from './operator-support';
import { backupSettings, runScript, seedCafe, removeTempDirs, tempDir, workerActivities, type ScriptRun } from './support';

const silentLogger = createLogger({ level: 'silent', name: 'test-backup' });
const unusedMercadoPago = createMercadoPagoClient({ accessToken: 'TEST-unused', apiUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });

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
    // With TEMPORAL_TASK_QUEUE set and nothing else, maintenance runs on "<queue>-maintenance".
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: `${taskQueue}-maintenance`,
      activities: workerActivities({
        db,
        metrics: createMetrics({ defaultMetrics: false }),
        temporal: env.client,
        settings: backupSettings(dir),
      }),
      workflowBundle: await workflowBundle(),
      dataConverter: payloadDataConverter(testConfig().temporal.payloadKeys),
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

  it('when run next to npm start with no TEMPORAL_ADDRESS, then it finds the stack, backs up on its maintenance queue and prints progress', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-discovered');
    const ordersQueue = uniqueTaskQueue('backup-orders');
    const maintenanceQueue = uniqueTaskQueue('backup-maintenance');
    const stackFile = await writeTestStackFile({
      temporal: { address: env.address, namespace: 'default', taskQueue: ordersQueue, maintenanceTaskQueue: maintenanceQueue },
      databaseUrl: testDatabaseUrl(),
      apiUrl: 'http://127.0.0.1:9',
    });
    const config = testConfig({ TEMPORAL_TASK_QUEUE: ordersQueue, TEMPORAL_MAINTENANCE_TASK_QUEUE: maintenanceQueue });
    const metrics = createMetrics({ defaultMetrics: false });
    const activities = workerActivities({ db, metrics, temporal: env.client, settings: backupSettings(dir) });
    const [maintenance] = await createQueueWorkers({
      connection: env.nativeConnection,
      config,
      kinds: ['maintenance'],
      deps: {
        db,
        metrics,
        temporal: env.client,
        logger: silentLogger,
        mercadopago: unusedMercadoPago,
        publicBaseUrl: 'http://localhost',
      },
      activities,
      workflowBundle: await workflowBundle(),
      dataConverter: payloadDataConverter(config.temporal.payloadKeys),
    });

    const result = await maintenance!.worker.runUntil(runOperatorScript('backup.ts', [], stackFile));

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(
      new RegExp(`^using the stack of npm start \\(pid ${process.pid}\\): Temporal ${env.address}`, 'm'),
    );
    expect(result.stdout).to.match(/^ {2}(dumping|verifying|drilling|pruning|recording|succeeded)\b/m);
    const file = /^archive (\S+\.dump) /m.exec(result.stdout)?.[1];
    expect(file?.startsWith(dir), result.stdout).to.equal(true);
  });

  it('when no stack is running and TEMPORAL_ADDRESS is unset, then it says to start npm start or set the variable and exits 2', async function () {
    this.timeout(30_000);
    const stackFile = await writeTestStackFile({
      pid: await deadPid(),
      temporal: { address: env.address, namespace: 'default', taskQueue: 'unused', maintenanceTaskQueue: 'unused' },
      databaseUrl: testDatabaseUrl(),
      apiUrl: 'http://127.0.0.1:9',
    });
    const missing = await runOperatorScript('backup.ts', [], `${stackFile}.absent`);
    const stale = await runOperatorScript('backup.ts', [], stackFile);

    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('no stack is running here');
    expect(missing.stderr).to.contain('start the stack with npm start or set TEMPORAL_ADDRESS');
    expect(stale.code).to.equal(2);
    expect(stale.stderr).to.match(/the stack in \S+ is gone \(npm start, pid \d+, is not running\)/);
    expect(stale.stdout).to.not.contain('backup started');
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
