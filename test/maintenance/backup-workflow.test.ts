import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { writeChecksum } from '../../activities/maintenance/backup-files';
import { createDb, type Db } from '../../db/knex';
import { findBackupRun } from '../../db/repositories/backups';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { BackupFailure, backupProgressQuery, type BackupInput, type BackupResult } from '../../workflows/maintenance/contracts';
import type { backupDatabase } from '../../workflows/maintenance/backup-workflow';
import { createWorker } from '../../workers/worker';
import { testDatabaseUrl } from '../support/env';
import { temporalDevServer, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { backupSettings, mainTableCounts, seedCafe, removeTempDirs, tempDir, workerActivities } from './support';

const run = promisify(execFile);
type Activities = ReturnType<typeof workerActivities>;

describe('backupDatabase workflow', () => {
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

  async function executeWithWorker(options: { dir: string; input?: BackupInput; wrap?: (activities: Activities) => Activities }) {
    const taskQueue = uniqueTaskQueue('backup');
    const metrics = createMetrics({ defaultMetrics: false });
    const activities = workerActivities({ db, metrics, temporal: env.client, settings: backupSettings(options.dir) });
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      activities: options.wrap ? options.wrap(activities) : activities,
      workflowBundle: await workflowBundle(),
    });
    const workflowId = `backup:test:${randomUUID()}`;
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof backupDatabase>('backupDatabase', {
        taskQueue,
        workflowId,
        args: [options.input ?? {}],
      });
      const outcome = await handle.result().then(
        (result) => ({ result, error: undefined }),
        (error: unknown) => ({ result: undefined, error }),
      );
      return { ...outcome, workflowId, metrics, progress: await handle.query(backupProgressQuery) };
    });
  }

  /** Replaces the archive pg_dump wrote once the dump activity is done, before verification. */
  const tamperingWith =
    (tamper: (result: Awaited<ReturnType<Activities['dumpDatabase']>>) => Promise<void>) =>
    (activities: Activities): Activities => ({
      ...activities,
      async dumpDatabase(input) {
        const result = await activities.dumpDatabase(input);
        await tamper(result);
        return result;
      },
    });

  const failureType = (error: unknown) => {
    expect(error).to.be.instanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).to.be.instanceOf(ApplicationFailure);
    return (cause as ApplicationFailure).type;
  };

  const metricValue = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) => {
    const metric = await metrics.registry.getSingleMetric(name)!.get();
    return metric.values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value;
  };

  it('when a backup runs, then a checksummed, readable archive is written and the restore drill matches the row counts', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-ok');
    const counts = await mainTableCounts(db);
    const { result, error, workflowId, metrics, progress } = await executeWithWorker({ dir });
    expect(error).to.equal(undefined);
    const [archive] = (result as BackupResult).archives;
    const name = path.basename(archive!.file);

    const content = await readFile(archive!.file);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(await readFile(`${archive!.file}.sha256`, 'utf8')).to.equal(`${sha256}  ${name}\n`);
    expect(archive).to.include({
      sha256,
      sizeBytes: content.length,
      verified: true,
      database: new URL(testDatabaseUrl()).pathname.slice(1),
    });
    expect((await readdir(dir)).sort()).to.deep.equal([name, `${name}.sha256`]);
    const { stdout } = await run('/usr/lib/postgresql/15/bin/pg_restore', ['--list', archive!.file]);
    expect(stdout).to.match(/TABLE DATA public order_events/);

    const drill = (result as BackupResult).drill;
    expect(drill.matched).to.equal(true);
    expect(Object.fromEntries(drill.tables.map((t) => [t.table, t.restored]))).to.deep.equal(counts);
    expect(counts.orders).to.be.greaterThan(0);
    const scratch = await db.raw('select 1 from pg_database where datname = ?', [drill.scratchDatabase]);
    expect(scratch.rows).to.have.length(0);

    const row = await findBackupRun(db, workflowId);
    expect(row).to.include({
      status: 'succeeded',
      verified: true,
      file: archive!.file,
      sizeBytes: content.length,
      sha256,
      error: null,
    });
    expect(row!.finishedAt).to.be.instanceOf(Date);
    expect(row!.drillResult).to.deep.include({ matched: true, scratchDatabase: drill.scratchDatabase });
    expect(progress.phase).to.equal('succeeded');

    expect(await metricValue(metrics, 'backup_runs_total', { result: 'success' })).to.equal(1);
    expect(await metricValue(metrics, 'backup_size_bytes')).to.equal(content.length);
    expect(await metricValue(metrics, 'backup_last_success_timestamp_seconds')).to.be.closeTo(Date.now() / 1000, 60);
  });

  it('when rows are written while the dump runs, then the drill still matches the snapshot the dump archived', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-busy');
    const before = await mainTableCounts(db);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await db('users').insert({ email: `busy-${randomUUID()}@example.test`, name: 'Busy', passwordHash: 'x' });
      }
    })();
    const { result, error } = await executeWithWorker({ dir });
    writing = false;
    await writer;
    const after = await mainTableCounts(db);

    expect(error).to.equal(undefined);
    const users = (result as BackupResult).drill.tables.find((t) => t.table === 'users')!;
    expect(users.restored).to.equal(users.expected);
    expect(users.expected).to.be.within(before.users!, after.users!);
    expect(after.users).to.be.greaterThan(before.users!);
  });

  it('when the archive changes after its checksum was written, then verification fails with ChecksumMismatch and the run is recorded as not good', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-flipped');
    const { error, workflowId, metrics } = await executeWithWorker({
      dir,
      wrap: tamperingWith(async ({ file }) => {
        const content = await readFile(file);
        const middle = Math.floor(content.length / 2);
        content[middle] = content[middle]! ^ 0xff;
        await writeFile(file, content);
      }),
    });

    expect(failureType(error)).to.equal(BackupFailure.ChecksumMismatch);
    await expectNothingLooksGood(dir);
    const row = await findBackupRun(db, workflowId);
    expect(row).to.include({ status: 'failed', verified: false });
    expect(row!.error).to.contain(BackupFailure.ChecksumMismatch);
    expect(row!.file).to.match(/\.dump\.rejected$/);
    expect(await metricValue(metrics, 'backup_failures_total')).to.equal(1);
    expect(await metricValue(metrics, 'backup_runs_total', { result: 'failure' })).to.equal(1);
  });

  it('when a truncated archive carries a matching checksum, then pg_restore rejects it as CorruptArchive and nothing looks good', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-truncated');
    const { error, workflowId } = await executeWithWorker({
      dir,
      wrap: tamperingWith(async (result) => {
        await truncate(result.file, Math.floor((await stat(result.file)).size * 0.6));
        const sha256 = createHash('sha256')
          .update(await readFile(result.file))
          .digest('hex');
        await writeChecksum(result.file, sha256);
        result.sha256 = sha256;
      }),
    });

    expect(failureType(error)).to.equal(BackupFailure.CorruptArchive);
    await expectNothingLooksGood(dir);
    expect(await findBackupRun(db, workflowId)).to.include({ status: 'failed', verified: false });
  });

  it('when the restored copy does not match the dumped counts, then the run fails with DrillMismatch and records the drill', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-mismatch');
    const { error, workflowId } = await executeWithWorker({
      dir,
      wrap: tamperingWith(async (result) => {
        result.rowCounts = { ...result.rowCounts, orders: result.rowCounts!.orders! + 1 };
      }),
    });

    expect(failureType(error)).to.equal(BackupFailure.DrillMismatch);
    await expectNothingLooksGood(dir);
    const row = await findBackupRun(db, workflowId);
    expect(row).to.include({ status: 'failed', verified: false });
    expect(row!.drillResult).to.deep.include({ matched: false });
  });

  it('when an extra database does not exist, then the run fails with DatabaseNotFound and leaves no file of it', async function () {
    this.timeout(90_000);
    const dir = await tempDir('backup-missing');
    const missing = `cafe_flow_missing_${randomBytes(4).toString('hex')}`;
    const { error, workflowId } = await executeWithWorker({ dir, input: { extraDatabases: [missing] } });

    expect(failureType(error)).to.equal(BackupFailure.DatabaseNotFound);
    expect((await readdir(dir)).filter((name) => name.startsWith(missing))).to.deep.equal([]);
    const row = await findBackupRun(db, workflowId);
    expect(row).to.include({ status: 'failed', verified: false });
    expect(row!.error).to.contain(missing);
  });

  /** No archive in `dir` has a checksum beside it, and no temporary file is left. */
  async function expectNothingLooksGood(dir: string) {
    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith('.sha256') || name.endsWith('.partial'))).to.deep.equal([]);
    expect(names.filter((name) => name.endsWith('.dump'))).to.deep.equal([]);
    expect(names.filter((name) => name.endsWith('.dump.rejected'))).to.have.length(1);
  }
});
