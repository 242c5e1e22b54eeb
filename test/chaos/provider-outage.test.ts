import { expect } from 'chai';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { eventually, openCafe, pay, placeOrder, type Cafe } from '../support/orders';
import {
  clearFaults,
  eventTypes,
  injectApiFault,
  injectNotificationFault,
  notificationsProcessed,
  providerCalls,
  settledOrder,
} from '../support/payments';
import { startStack, type TestStack } from '../support/stack';
import { expectEventLogsIntact } from './support/invariants';

// Real seconds on the dev server: the outage below lasts longer than this.
const PAYMENT_TIMEOUT_SECONDS = 5;

const searchesFor = (stack: TestStack, orderId: string) =>
  providerCalls(stack, 'GET', /^\/v1\/payments\/search\/?$/).filter((call) => call.query.external_reference === orderId);

describe('chaos: the MercadoPago API is down past the payment deadline', () => {
  let stack: TestStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;

  before(async () => {
    stack = await startStack({
      name: 'provider-outage',
      env: { PAYMENT_TIMEOUT_SECONDS: String(PAYMENT_TIMEOUT_SECONDS), RATE_LIMIT_PER_MINUTE: '100000' },
    });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
  });
  after(() => stack?.stop());

  it('when payments are made while the payments API answers 503, then once it is back each order is paid if a payment was approved and expired otherwise', async function () {
    this.timeout(120_000);
    const place = () => placeOrder(api, customer, cafe);
    const [approved, approvedWebhookLost, rejected, pending, unpaid] = await Promise.all([
      place(),
      place(),
      place(),
      place(),
      place(),
    ]);
    const orders = [approved, approvedWebhookLost, rejected, pending, unpaid];

    // Checkout pages still work (they are not the API), but every /v1/payments call fails.
    await injectApiFault(stack, { status: 503, pathPattern: '^/v1/payments' });
    const approvedPayment = await pay(stack, approved.payment.preferenceId);
    await injectNotificationFault(stack, { type: 'drop' });
    const lostPayment = await pay(stack, approvedWebhookLost.payment.preferenceId);
    await pay(stack, rejected.payment.preferenceId, 'rejected');
    await pay(stack, pending.payment.preferenceId, 'pending');

    // Down until every deadline has passed and every order's reconciliation has been refused at least once.
    const lastDeadline = Math.max(...orders.map((order) => Date.parse(order.payment.deadline)));
    await eventually(
      async () => ({
        now: Date.now(),
        refused: orders.map((order) => searchesFor(stack, order.id).filter((c) => c.status === 503).length),
      }),
      ({ now, refused }) => now > lastDeadline + 1000 && refused.every((count) => count > 0),
      60_000,
    );
    const outageEnded = Date.now();
    await clearFaults(stack);

    const settle = (order: typeof approved) => settledOrder(stack, api, customer, order.id);
    const paidOrder = await eventually(
      () => settle(approved),
      (order) => order.status !== 'pending_payment',
      60_000,
    );
    expect([paidOrder.status, paidOrder.paymentId, eventTypes(paidOrder)]).to.deep.equal([
      'paid',
      String(approvedPayment.id),
      ['placed', 'payment_approved'],
    ]);
    const reconciled = await eventually(
      () => settle(approvedWebhookLost),
      (order) => order.status !== 'pending_payment',
      60_000,
    );
    expect([reconciled.status, reconciled.paymentId, eventTypes(reconciled)]).to.deep.equal([
      'paid',
      String(lostPayment.id),
      ['placed', 'payment_approved'],
    ]);
    expect(reconciled.events[1]!.data).to.include({ statusDetail: 'reconciled' });

    for (const order of [rejected, pending, unpaid]) {
      const final = await eventually(
        () => settle(order),
        (o) => o.status === 'expired',
        60_000,
      );
      const expiry = await stack.db('orderEvents').where({ orderId: order.id, type: 'expired' }).first();
      expect(expiry.occurredAt.getTime(), 'expired only once the provider could be asked').to.be.at.least(outageEnded);
      expect(eventTypes(final).join()).to.be.oneOf(['placed,expired', 'placed,payment_rejected,expired']);
      const searches = searchesFor(stack, order.id).map((call) => call.status);
      expect(searches.at(-1), `searches of ${order.id}: ${searches.join()}`).to.equal(200);
    }

    await notificationsProcessed(stack, [approvedPayment.id, lostPayment.id]);
    expect(providerCalls(stack, 'POST', /\/refunds\/?$/), 'no money moved back').to.have.length(0);
    await expectEventLogsIntact(
      stack.db,
      orders.map((order) => order.id),
    );
  });
});
