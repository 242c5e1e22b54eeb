import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { expect } from 'chai';
import type { Counter, Gauge } from 'prom-client';
import { BACKUP_SCHEDULE_ID } from '../../workflows/maintenance/contracts';
import {
  SMOKE_CHECKS,
  SMOKE_SCHEDULE_ID,
  SMOKE_WORKFLOW_TYPE,
  smokeCafeName,
  smokeEmail,
  type CheckResult,
  type SmokeInput,
  type SmokeReport,
} from '../../workflows/maintenance/smoke-contracts';
import { ensureSchedules, maintenanceSchedules } from '../../workers/schedules';
import { testConfig } from '../support/env';
import { startStack, type TestStack } from '../support/stack';
import { codecClient, temporalDevServer, uniqueTaskQueue } from '../support/temporal';
import { runScript } from './support';

/** A stack of the test's own: the rate-limit check locks its client out of that app for a minute. */
async function withStack<T>(name: string, env: Record<string, string>, use: (stack: TestStack) => Promise<T>): Promise<T> {
  const stack = await startStack({ name, env });
  try {
    return await use(stack);
  } finally {
    await stack.stop();
  }
}

function smokeRun(stack: TestStack, overrides: Partial<SmokeInput> = {}): Promise<SmokeReport> {
  return stack.client.workflow.execute(SMOKE_WORKFLOW_TYPE, {
    taskQueue: stack.maintenanceTaskQueue,
    workflowId: `smoke:test:${randomUUID()}`,
    args: [{ baseUrl: stack.baseUrl, emulatorUrl: stack.emulator.url, ...overrides }],
  });
}

/** The CLI in a process of its own, against the stack's worker; answers its output and the report. */
async function smokeCli(stack: TestStack, args: string[]) {
  const run = await runScript('smoke.ts', ['--url', stack.baseUrl, '--emulator', stack.emulator.url, ...args], {
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
  });
  const workflowId = /^smoke check started: workflow (\S+)/m.exec(run.stdout)?.[1];
  expect(workflowId, run.stderr || run.stdout).to.be.a('string');
  const report = (await stack.client.workflow.getHandle(workflowId!).result()) as SmokeReport;
  return { ...run, report };
}

const named = (results: CheckResult[], name: string) => results.find((result) => result.name === name)!;

async function metricValue(metric: Counter<string> | Gauge<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return match?.value ?? 0;
}

async function smokeDataLeft(stack: TestStack, runTag: string) {
  const users = await stack
    .db('users')
    .whereRaw('lower(email) = ?', [smokeEmail(runTag)])
    .count({ n: '*' });
  const cafes = await stack.db('businesses').where('name', smokeCafeName(runTag)).count({ n: '*' });
  return { users: Number(users[0]!.n), cafes: Number(cafes[0]!.n) };
}

describe('deploy smoke check', () => {
  it('when the stack is healthy, then npm run smoke prints every check passed, exits 0 and leaves no smoke data', async function () {
    this.timeout(120_000);
    await withStack('smoke-healthy', {}, async (stack) => {
      // The latency budget is the production one's business; on a loaded CI machine reads are slower.
      const { code, stdout, stderr, report } = await smokeCli(stack, ['--p95-ms', '5000']);

      expect(code, stderr).to.equal(0);
      expect(report.checks.map((check) => check.name)).to.deep.equal([...SMOKE_CHECKS]);
      for (const check of [...report.checks, ...report.cleanup]) {
        expect(check, JSON.stringify(check)).to.deep.include({ status: 'passed', ok: true });
        expect(check.durationMs).to.be.a('number').at.least(0);
      }
      expect(report.result).to.equal('pass');
      expect(named(report.cleanup, 'cancelOrder').detail, 'the paid order was refunded').to.equal('order refunded');
      for (const name of SMOKE_CHECKS) expect(stdout).to.match(new RegExp(`^${name} +passed +\\d+ ms`, 'm'));
      expect(stdout).to.match(/^smoke check PASS$/m);
      expect(await smokeDataLeft(stack, report.runTag)).to.deep.equal({ users: 0, cafes: 0 });
      expect(await metricValue(stack.metrics.smokeRuns, { result: 'pass' })).to.equal(1);
      expect(await metricValue(stack.metrics.smokeLastSuccess)).to.be.closeTo(Date.now() / 1000, 120);
    });
  });

  it('when the API has the wrong webhook secret, then payOrder fails with a timeout, the rest passes and the CLI exits 1', async function () {
    this.timeout(120_000);
    await withStack('smoke-webhook-secret', { MERCADOPAGO_WEBHOOK_SECRET: 'not-the-emulators-secret' }, async (stack) => {
      const { code, stdout, report } = await smokeCli(stack, ['--pay-timeout-ms', '3000', '--p95-ms', '5000']);

      expect(code).to.equal(1);
      const pay = named(report.checks, 'payOrder');
      expect(pay).to.deep.include({ status: 'failed', ok: false });
      expect(pay.error).to.match(/^timed out after 3000 ms waiting for order \S+ to be paid: still pending_payment/);
      const others = report.checks.filter((check) => check.name !== 'payOrder');
      expect(
        others.filter((check) => check.status !== 'passed'),
        'every other check',
      ).to.deep.equal([]);
      expect(report.result).to.equal('fail');
      expect(named(report.cleanup, 'cancelOrder').detail).to.equal('order cancelled');
      expect(stdout).to.match(/^payOrder +failed +\d+ ms +timed out after 3000 ms/m);
      expect(stdout).to.match(/^smoke check FAIL: payOrder failed$/m);
      expect(await smokeDataLeft(stack, report.runTag)).to.deep.equal({ users: 0, cafes: 0 });
      expect(await metricValue(stack.metrics.smokeFailures, { check: 'payOrder' })).to.equal(1);
      expect(await metricValue(stack.metrics.smokeRuns, { result: 'fail' })).to.equal(1);
    });
  });

  it("when the API's database is down, then readiness fails naming postgres and the checks that need an account are skipped", async function () {
    this.timeout(120_000);
    const unreachable = { DATABASE_URL: 'postgres://cafe_flow:cafe_flow@127.0.0.1:1/cafe_flow' };
    await withStack('smoke-db-down', unreachable, async (stack) => {
      const report = await smokeRun(stack, { rateLimitBurst: 0 });

      expect(named(report.checks, 'health').status).to.equal('passed');
      const readiness = named(report.checks, 'readiness');
      expect(readiness).to.deep.include({ status: 'failed', ok: false });
      expect(readiness.error).to.match(/^GET \/ready answered 503: postgres down \(.*ECONNREFUSED.*\)$/);
      expect(named(report.checks, 'register')).to.deep.include({ status: 'failed', ok: false });
      expect(named(report.checks, 'login')).to.deep.include({
        status: 'skipped',
        detail: 'not run: needs register, which failed',
      });
      expect(named(report.checks, 'payOrder')).to.deep.include({
        status: 'skipped',
        detail: 'not run: needs placeOrder, which was skipped',
      });
      expect(named(report.checks, 'webhookSignature').status, 'refused before any database work').to.equal('passed');
      expect(report.result).to.equal('fail');
      const cleanup = named(report.cleanup, 'deleteSmokeData');
      expect(cleanup).to.deep.include({ status: 'failed', ok: false });
      expect(cleanup.error, 'after its retries').to.match(/^deleteSmokeData did not complete: .*ECONNREFUSED/);
    });
  });

  it('when no emulator is configured (a real test account), then the payment check is skipped with its reason and the run passes', async function () {
    this.timeout(120_000);
    await withStack('smoke-no-emulator', {}, async (stack) => {
      const report = await smokeRun(stack, { emulatorUrl: undefined, rateLimitBurst: 0 });

      expect(named(report.checks, 'payOrder')).to.deep.include({ status: 'skipped', ok: true });
      expect(named(report.checks, 'payOrder').detail).to.match(/no MercadoPago emulator URL \(SMOKE_MERCADOPAGO_EMULATOR_URL\)/);
      expect(named(report.checks, 'rateLimit')).to.deep.include({ status: 'skipped', detail: 'rateLimitBurst is 0' });
      expect(report.result).to.equal('pass');
      expect(named(report.cleanup, 'cancelOrder').detail, 'the unpaid order is cancelled').to.equal('order cancelled');
      expect(await smokeDataLeft(stack, report.runTag)).to.deep.equal({ users: 0, cafes: 0 });
    });
  });
});

describe('smoke-hourly schedule', () => {
  let client: Client;
  const deleteIfPresent = async (scheduleId: string) => {
    try {
      await client.schedule.getHandle(scheduleId).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  };
  // ensureSchedules makes backup-daily too: leave the shared dev server as it was found.
  const cleanUp = () => Promise.all([SMOKE_SCHEDULE_ID, BACKUP_SCHEDULE_ID].map(deleteIfPresent));

  before(async function () {
    this.timeout(120_000);
    // As the worker's client: schedules other tests' workers made carry encrypted arguments.
    client = codecClient(await temporalDevServer(), testConfig().temporal.payloadKeys);
    await cleanUp();
  });
  after(cleanUp);

  it('when SMOKE_BASE_URL is set and ensureSchedules runs twice, then smoke-hourly exists once, hourly, against that URL', async function () {
    this.timeout(30_000);
    const taskQueue = uniqueTaskQueue('smoke-schedule');
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMOKE_BASE_URL: 'https://cafe.example',
      SMOKE_P95_MS: '400',
      SMOKE_MERCADOPAGO_EMULATOR_URL: 'http://emulator.internal:8090',
    });

    const first = await ensureSchedules(client, config);
    const second = await ensureSchedules(client, config);

    expect(first).to.deep.include({ scheduleId: SMOKE_SCHEDULE_ID, created: true });
    expect(second).to.deep.include({ scheduleId: SMOKE_SCHEDULE_ID, created: false });
    const description = await client.schedule.getHandle(SMOKE_SCHEDULE_ID).describe();
    expect(description.spec.intervals).to.deep.equal([{ every: 3600_000, offset: 17 * 60_000 }]);
    expect(description.policies.overlap).to.equal('SKIP');
    expect(description.action).to.deep.include({ workflowType: SMOKE_WORKFLOW_TYPE, taskQueue: `${taskQueue}-maintenance` });
    expect(description.action.args).to.deep.equal([
      {
        baseUrl: 'https://cafe.example',
        p95Ms: 400,
        rateLimitBurst: 150,
        schedule: SMOKE_SCHEDULE_ID,
        emulatorUrl: 'http://emulator.internal:8090',
      },
    ]);
  });

  it('when SMOKE_BASE_URL is not set, then there is no smoke schedule to make', function () {
    const ids = maintenanceSchedules(testConfig({ SMOKE_BASE_URL: '' })).map((schedule) => schedule.scheduleId);

    // Other maintenance schedules come and go; the smoke one needs a deployment to check.
    expect(ids).to.include(BACKUP_SCHEDULE_ID);
    expect(ids).not.to.include(SMOKE_SCHEDULE_ID);
  });
});
