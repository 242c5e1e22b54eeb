import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScheduleNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { expect } from 'chai';
import { createLogger } from '../../lib/logger';
import { BACKUP_SCHEDULE_ID, type BackupResult } from '../../workflows/maintenance/contracts';
import { startWorker, type RunningWorker } from '../../workers/main';
import { testConfig } from '../support/env';
import { httpClient } from '../support/http';
import { registerUser } from '../support/fixtures';
import { act, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { uniqueTaskQueue } from '../support/temporal';

const { TaskQueueType } = temporal.api.enums.v1;

describe('worker task queues (WORKER_TASK_QUEUES)', () => {
  let stack: TestStack;
  let backupDir: string;
  let running: RunningWorker | undefined;

  before(async function () {
    this.timeout(120_000);
    // The API, Postgres and the emulator; the worker under test is the real worker process's root.
    stack = await startStack({ name: 'task-queues', withWorker: false });
    backupDir = await mkdtemp(path.join(tmpdir(), 'cafe-flow-task-queues-'));
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  after(async () => {
    // The maintenance-only worker ensured the daily schedule on the shared dev server.
    await stack?.client.schedule
      .getHandle(BACKUP_SCHEDULE_ID)
      .delete()
      .catch((error) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    await stack?.stop();
    await rm(backupDir, { recursive: true, force: true });
  });

  /** The worker process's composition root, serving `queues` only. */
  async function startWorkerServing(queues: string, ordersQueue: string): Promise<RunningWorker> {
    const config = testConfig({
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: ordersQueue,
      WORKER_TASK_QUEUES: queues,
      WORKER_METRICS_PORT: '0',
      MERCADOPAGO_ACCESS_TOKEN: stack.config.mercadopago.accessToken!,
      MERCADOPAGO_WEBHOOK_SECRET: stack.config.mercadopago.webhookSecret!,
      MERCADOPAGO_API_URL: stack.emulator.url,
      PUBLIC_BASE_URL: stack.baseUrl,
      BACKUP_DIR: backupDir,
    });
    running = await startWorker(config, createLogger({ level: 'silent', name: 'test-task-queues' }), { installRuntime: false });
    return running;
  }

  async function pollers(taskQueue: string): Promise<number> {
    const { pollers } = await stack.client.workflowService.describeTaskQueue({
      namespace: stack.config.temporal.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return pollers?.length ?? 0;
  }

  /** True when a worker has taken at least one workflow task of the execution. */
  async function picked(handle: WorkflowHandle): Promise<boolean> {
    const { events } = await handle.fetchHistory();
    return (events ?? []).some((event) => event.workflowTaskStartedEventAttributes);
  }

  it('when a worker serves orders only, then an order completes while a backup on the maintenance queue stays unpicked', async function () {
    this.timeout(120_000);
    const worker = await startWorkerServing('orders', stack.taskQueue);
    expect(worker.workers.map(({ kind, taskQueue }) => ({ kind, taskQueue }))).to.deep.equal([
      { kind: 'orders', taskQueue: stack.taskQueue },
    ]);
    const backup = await stack.client.workflow.start('backupDatabase', {
      taskQueue: stack.maintenanceTaskQueue,
      workflowId: `backup:test:${randomUUID()}`,
      args: [{}],
    });

    const api = httpClient(stack.baseUrl);
    const cafe = await openCafe(api);
    const customer = await registerUser(api);
    const order = await placeOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    for (const action of ['accept', 'ready', 'complete']) {
      expect((await act(api, cafe.owner, order.id, action)).status, action).to.equal(200);
    }
    await orderWithStatus(api, customer, order.id, 'completed');

    expect(await picked(backup), 'the backup was taken by the orders-only worker').to.equal(false);
    expect(await pollers(stack.maintenanceTaskQueue)).to.equal(0);
    expect(await pollers(stack.taskQueue)).to.be.greaterThan(0);
    await backup.terminate('test over');
  });

  it('when a worker serves maintenance only, then a backup completes while an order workflow stays unpicked', async function () {
    this.timeout(180_000);
    const ordersQueue = uniqueTaskQueue('task-queues-orders');
    const worker = await startWorkerServing('maintenance', ordersQueue);
    const maintenanceQueue = worker.workers[0]!.taskQueue;
    expect(worker.workers.map(({ kind }) => kind)).to.deep.equal(['maintenance']);
    expect(maintenanceQueue).to.equal(`${ordersQueue}-maintenance`);
    const order = await stack.client.workflow.start('processOrder', {
      taskQueue: ordersQueue,
      workflowId: `order:test:${randomUUID()}`,
      args: [{}],
    });

    const backup = await stack.client.workflow.execute('backupDatabase', {
      taskQueue: maintenanceQueue,
      workflowId: `backup:test:${randomUUID()}`,
      args: [{}],
    });

    expect((backup as BackupResult).archives).to.have.length(1);
    expect((backup as BackupResult).archives[0]!.file.startsWith(backupDir)).to.equal(true);
    expect(await picked(order), 'the order was taken by the maintenance-only worker').to.equal(false);
    expect(await pollers(ordersQueue)).to.equal(0);
    expect(await pollers(maintenanceQueue)).to.be.greaterThan(0);
    await order.terminate('test over');
  });
});
