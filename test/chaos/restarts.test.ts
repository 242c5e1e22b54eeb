import { expect } from 'chai';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { act, eventually, openCafe, orderWithStatus, placeOrder, randomUUID, type Cafe } from '../support/orders';
import { startDedicatedStack, type DedicatedStack } from './support/dedicated-stack';
import { expectEventLogsIntact, payAtProvider } from './support/invariants';

/** The answer a placement gets while a dependency is down: a retryable 503, never a 500. */
async function expectPlacementRefused(api: HttpClient, customer: TestUser, cafe: Cafe) {
  const response = await api.post(
    `/v1/businesses/${cafe.id}/orders`,
    { items: [{ productId: cafe.products[0]!.id, quantity: 1 }] },
    { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
  );
  expect(response.status, JSON.stringify(response.body)).to.equal(503);
  expect(response.body.error.code).to.equal('SERVICE_UNAVAILABLE');
  expect(response.headers.get('retry-after')).to.equal('5');
}

async function expectNotReady(api: HttpClient, down: 'postgres' | 'temporal') {
  const response = await api.get('/ready');
  expect(response.status).to.equal(503);
  expect(response.body.status).to.equal('not_ready');
  expect(response.body.checks[down].status).to.equal('down');
}

const readyAgain = (api: HttpClient) =>
  eventually(
    () => api.get('/ready'),
    (response) => response.status === 200,
    60_000,
  );

describe('chaos: Postgres and the Temporal server restart under the app', () => {
  let stack: DedicatedStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;

  before(async function () {
    this.timeout(180_000);
    stack = await startDedicatedStack('restarts');
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
  });
  after(async function () {
    this.timeout(60_000);
    await stack?.stop();
  });

  async function paidAndAccepted() {
    const order = await placeOrder(api, customer, cafe);
    await payAtProvider(stack.emulator.url, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    expect((await act(api, cafe.owner, order.id, 'accept')).status).to.equal(200);
    return order;
  }

  async function finish(orderId: string) {
    expect((await act(api, cafe.owner, orderId, 'ready')).status).to.equal(200);
    expect((await act(api, cafe.owner, orderId, 'complete')).status).to.equal(200);
    return orderWithStatus(api, customer, orderId, 'completed');
  }

  // The same outage, once per dependency the API needs.
  for (const dependency of ['postgres', 'temporal'] as const) {
    const which = dependency === 'postgres' ? 'Postgres' : 'the Temporal server';
    it(`when ${which} is down, then placement answers 503 SERVICE_UNAVAILABLE and /ready 503; once it is back, orders accepted before it went down complete`, async function () {
      this.timeout(150_000);
      const accepted = await paidAndAccepted();

      await stack[dependency].stop();
      await expectNotReady(api, dependency);
      await expectPlacementRefused(api, customer, cafe);
      await stack[dependency].start();

      await readyAgain(api);
      await finish(accepted.id);
      const after = await placeOrder(api, customer, cafe);
      await payAtProvider(stack.emulator.url, after.payment.preferenceId);
      await orderWithStatus(api, customer, after.id, 'paid');
      await expectEventLogsIntact(stack.db, [accepted.id, after.id]);
      expect(stack.worker.alive(), stack.worker.tail()).to.equal(true);
    });
  }
});
