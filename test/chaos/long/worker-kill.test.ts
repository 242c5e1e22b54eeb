import { expect } from 'chai';
import { registerUser, type TestUser } from '../../support/fixtures';
import { httpClient, type HttpClient } from '../../support/http';
import { act, openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../../support/orders';
import { startStack, type TestStack } from '../../support/stack';
import { driveTo, type Goal } from '../support/drive';
import { expectEventLogsIntact, expectProviderSideEffectsOnce, inBatches, paymentsAtProvider } from '../support/invariants';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const ORDERS = 100;

/**
 * Where each order is when the worker dies, what is being done to it at that moment, and where it
 * must end: twenty orders per step, some of them being cancelled.
 */
interface Plan {
  at: 'pending_payment' | 'paid' | 'preparing' | 'ready';
  inFlight: 'pay' | 'cancel' | 'accept' | 'ready' | 'complete';
  goal: Goal;
}

function planFor(index: number): Plan {
  if (index < 20) return { at: 'pending_payment', inFlight: 'pay', goal: 'completed' };
  if (index < 30) return { at: 'pending_payment', inFlight: 'cancel', goal: 'cancelled' };
  if (index < 50) return { at: 'paid', inFlight: 'accept', goal: 'completed' };
  if (index < 60) return { at: 'paid', inFlight: 'cancel', goal: 'refunded' };
  if (index < 80) return { at: 'preparing', inFlight: 'ready', goal: 'completed' };
  return { at: 'ready', inFlight: 'complete', goal: 'completed' };
}

describe('chaos (long): the worker is killed with 100 orders in flight', () => {
  let stack: TestStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;
  const workers: WorkerProcess[] = [];

  before(async () => {
    stack = await startStack({ name: 'worker-kill', withWorker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
  });
  after(async function () {
    this.timeout(60_000);
    for (const worker of workers) await worker.kill();
    await stack?.stop();
  });

  const startWorker = async () => {
    const worker = await startWorkerProcess({
      databaseUrl: stack.config.database.url!,
      temporalAddress: stack.env.address,
      taskQueue: stack.taskQueue,
      mercadopagoAccessToken: stack.config.mercadopago.accessToken!,
      mercadopagoApiUrl: stack.emulator.url,
      publicBaseUrl: stack.baseUrl,
    });
    workers.push(worker);
    return worker;
  };

  type Placed = Awaited<ReturnType<typeof placeOrder>> & { plan: Plan };

  /** Brings each order to the step its plan puts it at, with a worker running. */
  async function setUp(): Promise<Placed[]> {
    const orders = await inBatches(
      Array.from({ length: ORDERS }, (_, i) => i),
      10,
      async (i) => ({
        ...(await placeOrder(api, customer, cafe)),
        plan: planFor(i),
      }),
    );
    const past = (order: Placed, step: Plan['at']) => {
      const steps = ['pending_payment', 'paid', 'preparing', 'ready'];
      return steps.indexOf(order.plan.at) >= steps.indexOf(step);
    };
    await inBatches(
      orders.filter((o) => past(o, 'paid')),
      10,
      async (order) => {
        await pay(stack, order.payment.preferenceId);
        await orderWithStatus(api, customer, order.id, 'paid', 60_000);
      },
    );
    for (const [step, action] of [
      ['preparing', 'accept'],
      ['ready', 'ready'],
    ] as const) {
      await inBatches(
        orders.filter((o) => past(o, step)),
        10,
        async (order) => expect((await act(api, cafe.owner, order.id, action)).status).to.equal(200),
      );
    }
    return orders;
  }

  /** What is being done to the order when the worker dies; answers do not matter, the end state does. */
  function inFlight(order: Placed): Promise<unknown> {
    const { inFlight: what, goal } = order.plan;
    if (what === 'pay') return pay(stack, order.payment.preferenceId);
    if (what === 'cancel') {
      const user = goal === 'cancelled' ? customer : cafe.owner;
      return act(api, user, order.id, 'cancel', { reason: 'chaos' });
    }
    return act(api, cafe.owner, order.id, what);
  }

  it('when the worker is killed with -9 mid-flight, then a new one drives every order to its planned end, no payment is taken twice and no event is lost or repeated', async function () {
    this.timeout(900_000);
    await startWorker();
    const orders = await setUp();

    let answered = 0;
    const chaos = inBatches(orders, 20, (order) =>
      inFlight(order)
        .catch((error: unknown) => error)
        .finally(() => answered++),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await workers[0]!.kill();
    expect(answered, 'requests still waiting on the worker when it died').to.be.below(ORDERS);
    await startWorker();
    await chaos;

    const actors = { api, customer, staff: cafe.owner };
    const finals = await inBatches(orders, 10, (order) => driveTo(actors, order.id, order.plan.goal));
    expect(finals).to.deep.equal(orders.map((order) => order.plan.goal));

    const ids = orders.map((order) => order.id);
    await expectEventLogsIntact(stack.db, ids);
    expectProviderSideEffectsOnce(stack.emulator.requests(), ids);
    await expectEachPaymentTakenOnce(orders);
  });

  /**
   * The provider's own records: every order that was paid holds exactly one payment, kept when the
   * order completed and refunded once when it was cancelled after payment.
   */
  async function expectEachPaymentTakenOnce(orders: Placed[]) {
    const token = stack.emulator.accessTokens[0]!;
    const problems: string[] = [];
    await inBatches(orders, 10, async (order) => {
      const payments = await paymentsAtProvider(stack.emulator.url, token, order.id);
      const statuses = payments.map((payment) => payment.status).join();
      const expected = { completed: 'approved', refunded: 'refunded', cancelled: '' }[order.plan.goal];
      if (statuses !== expected) problems.push(`${order.id} (${order.plan.goal}): provider holds [${statuses}]`);
      const approvals = await stack.db('orderEvents').where({ orderId: order.id, type: 'payment_approved' });
      if (approvals.length !== (expected ? 1 : 0)) problems.push(`${order.id}: ${approvals.length} payment_approved events`);
    });
    expect(problems).to.deep.equal([]);
  }
});
