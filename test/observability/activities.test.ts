import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { expect } from 'chai';
import { instrumentActivities } from '../../activities/instrument';
import { createLogger } from '../../lib/logger';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { LogCapture } from '../support/stack';
import { runWorker, temporalDevServer, uniqueTaskQueue, type RunningWorker } from '../support/temporal';
import type { ChargeInput } from './instrumented-workflow';
import { parseMetrics, valueOf } from './support';

type LogLine = Record<string, any>;

/** Behaves as its scenario says; logs through the root logger, as the real activities do. */
function chargeActivities(logger: ReturnType<typeof createLogger>) {
  return {
    async chargeCard(input: ChargeInput): Promise<string> {
      const { attempt } = Context.current().info;
      logger.info({ scenario: input.scenario }, 'charging card');
      if (input.scenario === 'declined') throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
      if (input.scenario === 'down' || attempt === 1) throw new Error('provider unavailable');
      return 'charged';
    },
  };
}

describe('observability: activity instrumentation', function () {
  this.timeout(90_000);
  const logs = new LogCapture();
  const reported: { error: unknown; context: Record<string, unknown> }[] = [];
  let metrics: Metrics;
  let worker: RunningWorker;
  let taskQueue: string;

  before(async function () {
    const env = await temporalDevServer();
    const logger = createLogger({ level: 'debug', name: 'activities-test', destination: logs });
    metrics = createMetrics({ defaultMetrics: false });
    taskQueue = uniqueTaskQueue('instrument');
    const activities = instrumentActivities(chargeActivities(logger), {
      logger,
      metrics,
      reportError: (error, context) => reported.push({ error, context }),
    });
    worker = await runWorker(
      await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('./instrumented-workflow'),
        activities,
      }),
      taskQueue,
    );
  });
  after(async function () {
    await worker?.stop();
  });

  /** Runs one order's charge; returns its ids and the log lines and reports about that order. */
  async function charge(scenario: ChargeInput['scenario']) {
    const businessId = randomUUID();
    const orderId = randomUUID();
    const workflowId = `order:${businessId}:${orderId}`;
    const { client } = await temporalDevServer();
    const outcome = await client.workflow.execute('chargeOrder', { taskQueue, workflowId, args: [{ orderId, scenario }] });
    const lines = logs.lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.orderId === orderId);
    return { outcome, workflowId, businessId, orderId, lines, reports: reported.filter((r) => r.context.orderId === orderId) };
  }

  const counted = async (result: string) =>
    valueOf(parseMetrics(await metrics.registry.metrics()), 'activity_executions_total', { activity: 'chargeCard', result });

  it('when an activity logs, then the line carries the workflow id, the order id and the attempt', async function () {
    const { outcome, workflowId, businessId, orderId, lines } = await charge('flaky');

    expect(outcome).to.equal('charged');
    const charging = lines.filter((line) => line.msg === 'charging card');
    expect(charging.map((line) => line.attempt)).to.deep.equal([1, 2]);
    for (const line of charging)
      expect(line).to.include({ workflowId, orderId, businessId, activity: 'chargeCard', workflowType: 'chargeOrder' });
    expect(lines.filter((line) => line.msg === 'activity failed').map((line) => line.final)).to.deep.equal([false]);
    expect(lines.filter((line) => line.msg === 'activity completed')).to.have.length(1);
  });

  it('when an attempt fails and the retry succeeds, then nothing is reported to Sentry', async function () {
    const retriesBefore = await counted('retry');

    const { reports } = await charge('flaky');

    expect(reports).to.deep.equal([]);
    expect((await counted('retry')) - retriesBefore).to.equal(1);
  });

  it('when an activity fails with a non-retryable failure, then it is reported once with its context', async function () {
    const failuresBefore = await counted('failure');

    const { outcome, workflowId, orderId, reports } = await charge('declined');

    expect(outcome).to.equal('failed');
    expect(reports).to.have.length(1);
    expect(reports[0]!.context).to.include({ activity: 'chargeCard', workflowId, orderId, attempt: 1 });
    expect((reports[0]!.error as ApplicationFailure).type).to.equal('CardDeclined');
    expect((await counted('failure')) - failuresBefore).to.equal(1);
  });

  it('when the retry policy runs out of attempts, then only the last attempt is reported', async function () {
    const { outcome, lines, reports } = await charge('down');

    expect(outcome).to.equal('failed');
    expect(lines.filter((line) => line.msg === 'activity failed').map((line) => line.final)).to.deep.equal([false, false, true]);
    expect(reports).to.have.length(1);
    expect(reports[0]!.context).to.include({ attempt: 3 });
  });
});
