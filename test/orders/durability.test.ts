import { expect } from 'chai';
import { startWorkerProcess, type WorkerProcess } from '../chaos/support/worker-process';
import { registerUser } from '../support/fixtures';
import { act, eventually, orderWithStatus, pay, placeOrder } from '../support/orders';
import { useOrderStack } from '../support/use-stack';
import { failingAfterCommit } from '../support/faults';

describe('order durability', () => {
  describe('when an activity fails after its write committed', () => {
    const failures = new Map<string, number>();
    const the = useOrderStack({
      name: 'retries',
      wrapActivities: failingAfterCommit(failures),
    });

    it('then the retries leave each event in the read model exactly once', async () => {
      const { api, cafe, customer, stack } = the;
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
    const processes: WorkerProcess[] = [];
    // Registered first, so the worker processes are gone before the stack stops.
    after(async () => {
      await Promise.all(processes.map((worker) => worker.kill()));
    });
    const the = useOrderStack({ name: 'crash', withWorker: false, customer: false });

    /** The production entry point (workers/main.ts) in a process of its own, on the stack's task queue. */
    async function startWorker(): Promise<WorkerProcess> {
      const { stack } = the;
      const worker = await startWorkerProcess({
        databaseUrl: stack.config.database.url as string,
        temporalAddress: stack.env.address,
        taskQueue: stack.taskQueue,
        mercadopagoAccessToken: stack.config.mercadopago.accessToken as string,
        mercadopagoApiUrl: stack.emulator.url,
        publicBaseUrl: stack.baseUrl,
      });
      processes.push(worker);
      return worker;
    }

    it('then a new worker finishes every order with nothing lost or repeated', async function () {
      this.timeout(180_000);
      const { api, cafe, stack } = the;
      const first = await startWorker();
      const customer = await registerUser(api);
      const orders = await Promise.all([0, 1, 2].map(() => placeOrder(api, customer, cafe)));
      await Promise.all(orders.map((order) => pay(stack, order.payment.preferenceId)));
      await Promise.all(orders.map((order) => orderWithStatus(api, customer, order.id, 'paid')));
      await act(api, cafe.owner, orders[0]!.id, 'accept');

      await first.kill();
      // Staff keep working while no worker runs: the updates wait in Temporal for the next one.
      const pending = [act(api, cafe.owner, orders[0]!.id, 'ready'), act(api, cafe.owner, orders[1]!.id, 'accept')];
      const cancelled = act(api, customer, orders[2]!.id, 'cancel', { reason: 'late for work' });
      await startWorker();
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
