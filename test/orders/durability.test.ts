import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { ApplicationFailure } from '@temporalio/common';
import { freePort } from '../../scripts/stack/embedded-postgres';
import { startStack, type TestStack } from '../support/stack';
import { httpClient, type HttpClient } from '../support/http';
import { registerUser } from '../support/fixtures';
import { act, eventually, openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';

const root = path.resolve(__dirname, '..', '..');

describe('order durability', () => {
  describe('when an activity fails after its write committed', () => {
    let stack: TestStack;
    let api: HttpClient;
    const failures = new Map<string, number>();

    before(async () => {
      stack = await startStack({
        name: 'retries',
        wrapActivities: (activities) => ({
          ...activities,
          // Writes for real, then fails the first two attempts of every event: exactly what a
          // worker that crashes before reporting completion looks like to Temporal.
          async recordOrderEvent(input) {
            await activities.recordOrderEvent(input);
            const key = `${input.event.orderId}:${input.event.seq}`;
            const seen = failures.get(key) ?? 0;
            if (seen < 2) {
              failures.set(key, seen + 1);
              throw ApplicationFailure.retryable('transient failure after commit', 'TransientTestFailure');
            }
          },
        }),
      });
      api = httpClient(stack.baseUrl);
    });
    after(() => stack?.stop());

    it('then the retries leave each event in the read model exactly once', async () => {
      const cafe = await openCafe(api);
      const customer = await registerUser(api);
      const order = await placeOrder(api, customer, cafe);
      await pay(stack, order.payment.preferenceId);
      await orderWithStatus(api, customer, order.id, 'paid');
      await act(api, cafe.owner, order.id, 'accept');
      await act(api, cafe.owner, order.id, 'ready');
      await act(api, cafe.owner, order.id, 'complete');
      const final = await orderWithStatus(api, customer, order.id, 'completed');
      expect(final.events.map((event: { seq: number }) => event.seq)).to.deep.equal([1, 2, 3, 4, 5]);
      expect([...failures.entries()].filter(([key]) => key.startsWith(order.id)).every(([, count]) => count === 2)).to.equal(
        true,
      );
      const rows = await stack.db('orderEvents').where({ orderId: order.id });
      expect(rows).to.have.length(5);
    });
  });

  describe('when the worker process is killed mid-lifecycle', () => {
    let stack: TestStack;
    let api: HttpClient;
    let cafe: Cafe;
    const processes: ChildProcess[] = [];

    before(async () => {
      stack = await startStack({ name: 'crash', withWorker: false });
      api = httpClient(stack.baseUrl);
      cafe = await openCafe(api);
    });
    after(async () => {
      for (const child of processes) child.kill('SIGKILL');
      await stack?.stop();
    });

    /** The production entry point (workers/main.ts) in a process of its own. */
    async function startWorkerProcess(): Promise<ChildProcess> {
      const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'workers/main.ts'], {
        cwd: root,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          DATABASE_URL: stack.config.database.url,
          TEMPORAL_ADDRESS: stack.env.address,
          TEMPORAL_TASK_QUEUE: stack.taskQueue,
          MERCADOPAGO_ACCESS_TOKEN: stack.config.mercadopago.accessToken,
          MERCADOPAGO_API_URL: stack.emulator.url,
          PUBLIC_BASE_URL: stack.baseUrl,
          WORKER_METRICS_PORT: String(await freePort()),
          TEMPORAL_METRICS_PORT: String(await freePort()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      processes.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('worker did not start in 60 s')), 60_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('worker running')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
      return child;
    }

    it('then a new worker finishes every order with nothing lost or repeated', async function () {
      this.timeout(180_000);
      const first = await startWorkerProcess();
      const customer = await registerUser(api);
      const orders = await Promise.all([0, 1, 2].map(() => placeOrder(api, customer, cafe)));
      await Promise.all(orders.map((order) => pay(stack, order.payment.preferenceId)));
      await Promise.all(orders.map((order) => orderWithStatus(api, customer, order.id, 'paid')));
      await act(api, cafe.owner, orders[0]!.id, 'accept');

      first.kill('SIGKILL');
      // Staff keep working while no worker runs: the updates wait in Temporal for the next one.
      const pending = [act(api, cafe.owner, orders[0]!.id, 'ready'), act(api, cafe.owner, orders[1]!.id, 'accept')];
      const cancelled = act(api, customer, orders[2]!.id, 'cancel', { reason: 'late for work' });
      await startWorkerProcess();
      expect((await Promise.all(pending)).map((response) => response.body.status)).to.deep.equal(['ready', 'preparing']);
      expect((await cancelled).body.status).to.equal('cancelled');

      await act(api, cafe.owner, orders[0]!.id, 'complete');
      await orderWithStatus(api, customer, orders[0]!.id, 'completed');
      await orderWithStatus(api, customer, orders[2]!.id, 'refunded');
      for (const order of orders) {
        const rows = await stack.db('orderEvents').where({ orderId: order.id }).orderBy('seq');
        const seqs = rows.map((row: { seq: number }) => row.seq);
        expect(seqs, order.id).to.deep.equal(seqs.map((_: number, i: number) => i + 1));
      }
      const refunds = stack.emulator
        .requests()
        .filter((request) => request.method === 'POST' && request.path.endsWith('/refunds') && request.status < 300);
      expect(
        refunds.filter((request) => request.idempotencyKey?.startsWith(`refund:${orders[2]!.id}`) && !request.idempotentReplay),
      ).to.have.length(1);
      await eventually(
        async () =>
          (
            await stack
              .db('orders')
              .whereIn(
                'id',
                orders.map((order) => order.id),
              )
              .select('status')
          )
            .map((row: { status: string }) => row.status)
            .sort(),
        (statuses) => JSON.stringify(statuses) === JSON.stringify(['completed', 'preparing', 'refunded']),
      );
    });
  });
});
