import { expect } from 'chai';
import { eventually, pay, placeOrder } from '../support/orders';
import {
  clearFaults,
  eventTypes,
  injectApiFault,
  injectNotificationFault,
  notificationsProcessed,
  providerCalls,
  settledOrder,
} from '../support/payments';
import { type TestStack } from '../support/stack';
import { expectEventLogsIntact } from './support/invariants';
import { useOrderStack } from '../support/use-stack';

// Real seconds on the dev server: the outage below lasts longer than this.
const PAYMENT_TIMEOUT_SECONDS = 5;

const searchesFor = (stack: TestStack, orderId: string) =>
  providerCalls(stack, 'GET', /^\/v1\/payments\/search\/?$/).filter((call) => call.query.external_reference === orderId);

describe('chaos: the MercadoPago API is down past the payment deadline', () => {
  const the = useOrderStack({
    name: 'provider-outage',
    env: { PAYMENT_TIMEOUT_SECONDS: String(PAYMENT_TIMEOUT_SECONDS), RATE_LIMIT_PER_MINUTE: '100000' },
  });

  it('when payments are made while the payments API answers 503, then once it is back each order is paid if a payment was approved and expired otherwise', async function () {
    this.timeout(120_000);
    const place = () => placeOrder(the.api, the.customer, the.cafe);
    const [approved, approvedWebhookLost, rejected, pending, unpaid] = await Promise.all([
      place(),
      place(),
      place(),
      place(),
      place(),
    ]);
    const orders = [approved, approvedWebhookLost, rejected, pending, unpaid];

    // Checkout pages still work (they are not the API), but every /v1/payments call fails.
    await injectApiFault(the.stack, { status: 503, pathPattern: '^/v1/payments' });
    const approvedPayment = await pay(the.stack, approved.payment.preferenceId);
    await injectNotificationFault(the.stack, { type: 'drop' });
    const lostPayment = await pay(the.stack, approvedWebhookLost.payment.preferenceId);
    await pay(the.stack, rejected.payment.preferenceId, 'rejected');
    await pay(the.stack, pending.payment.preferenceId, 'pending');

    // Down until every deadline has passed and every order's reconciliation has been refused at least once.
    const lastDeadline = Math.max(...orders.map((order) => Date.parse(order.payment.deadline)));
    await eventually(
      async () => ({
        now: Date.now(),
        refused: orders.map((order) => searchesFor(the.stack, order.id).filter((c) => c.status === 503).length),
      }),
      ({ now, refused }) => now > lastDeadline + 1000 && refused.every((count) => count > 0),
      60_000,
    );
    const outageEnded = Date.now();
    await clearFaults(the.stack);

    const settle = (order: typeof approved) => settledOrder(the.stack, the.api, the.customer, order.id);
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
      const expiry = await the.stack.db('orderEvents').where({ orderId: order.id, type: 'expired' }).first();
      expect(expiry.occurredAt.getTime(), 'expired only once the provider could be asked').to.be.at.least(outageEnded);
      expect(eventTypes(final).join()).to.be.oneOf(['placed,expired', 'placed,payment_rejected,expired']);
      const searches = searchesFor(the.stack, order.id).map((call) => call.status);
      expect(searches.at(-1), `searches of ${order.id}: ${searches.join()}`).to.equal(200);
    }

    await notificationsProcessed(the.stack, [approvedPayment.id, lostPayment.id]);
    expect(providerCalls(the.stack, 'POST', /\/refunds\/?$/), 'no money moved back').to.have.length(0);
    await expectEventLogsIntact(
      the.stack.db,
      orders.map((order) => order.id),
    );
  });
});
