import { expect } from 'chai';
import { type TestUser } from '../support/fixtures';
import { type HttpClient } from '../support/http';
import { act, eventually, orderWithStatus, placeOrder, randomUUID, type Cafe } from '../support/orders';
import { startDedicatedStack } from './support/dedicated-stack';
import { useCafeStack } from '../support/use-stack';
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
  const the = useCafeStack(() => startDedicatedStack('restarts'), { timeoutMs: { start: 180_000, stop: 60_000 } });

  async function paidAndAccepted() {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    await payAtProvider(the.stack.emulator.url, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    expect((await act(the.api, the.cafe.owner, order.id, 'accept')).status).to.equal(200);
    return order;
  }

  async function finish(orderId: string) {
    expect((await act(the.api, the.cafe.owner, orderId, 'ready')).status).to.equal(200);
    expect((await act(the.api, the.cafe.owner, orderId, 'complete')).status).to.equal(200);
    return orderWithStatus(the.api, the.customer, orderId, 'completed');
  }

  // The same outage, once per dependency the API needs.
  for (const dependency of ['postgres', 'temporal'] as const) {
    const which = dependency === 'postgres' ? 'Postgres' : 'the Temporal server';
    it(`when ${which} is down, then placement answers 503 SERVICE_UNAVAILABLE and /ready 503; once it is back, orders accepted before it went down complete`, async function () {
      this.timeout(150_000);
      const accepted = await paidAndAccepted();

      await the.stack[dependency].stop();
      await expectNotReady(the.api, dependency);
      await expectPlacementRefused(the.api, the.customer, the.cafe);
      await the.stack[dependency].start();

      await readyAgain(the.api);
      await finish(accepted.id);
      const after = await placeOrder(the.api, the.customer, the.cafe);
      await payAtProvider(the.stack.emulator.url, after.payment.preferenceId);
      await orderWithStatus(the.api, the.customer, after.id, 'paid');
      await expectEventLogsIntact(the.stack.db, [accepted.id, after.id]);
      expect(the.stack.worker.alive(), the.stack.worker.tail()).to.equal(true);
    });
  }
});
