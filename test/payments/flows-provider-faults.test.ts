import { expect } from 'chai';
import { act, orderWithStatus, pay, placeOrder } from '../support/orders';
import {
  eventTypes,
  injectApiFault,
  notificationsProcessed,
  paymentGets,
  preferenceCreates,
  refundCalls,
  refundsAtProvider,
  setPaymentStatus,
  settledOrder,
} from '../support/payments';
import { useOrderStack } from '../support/use-stack';

describe('payment flows: MercadoPago failing under us', () => {
  const the = useOrderStack({ name: 'flows-provider-faults', env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  it('when creating the preference answers 500 then 429, then Temporal retries with the same key and one preference is made', async () => {
    await injectApiFault(the.stack, { status: 500, times: 1, method: 'POST', pathPattern: '^/checkout/preferences' });
    await injectApiFault(the.stack, { status: 429, times: 1, method: 'POST', pathPattern: '^/checkout/preferences' });

    const order = await placeOrder(the.api, the.customer, the.cafe);

    const creates = preferenceCreates(the.stack, order.id);
    expect(creates.map((call) => call.status)).to.deep.equal([500, 429, 201]);
    expect(new Set(creates.map((call) => call.idempotencyKey))).to.deep.equal(new Set([`preference:${order.id}`]));
    expect(order.payment.preferenceId).to.be.a('string');
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
  });

  it('when creating the preference outlives the client timeout, then the retry replays the first preference instead of making another', async () => {
    // The emulator finishes the slow call after our SDK gave up (5 s) and before the retry (1 s later).
    await injectApiFault(the.stack, { delayMs: 5300, times: 1, method: 'POST', pathPattern: '^/checkout/preferences' });

    const order = await placeOrder(the.api, the.customer, the.cafe);

    const creates = preferenceCreates(the.stack, order.id);
    expect(creates.map((call) => [call.status, call.idempotentReplay, call.idempotencyKey])).to.deep.equal([
      [201, false, `preference:${order.id}`],
      [201, true, `preference:${order.id}`],
    ]);
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
  });

  it('when fetching the notified payment answers 500 then 429, then the notification is retried until the order is paid', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId, 'pending');
    await notificationsProcessed(the.stack, [payment.id]);
    const path = `^/v1/payments/${payment.id}/?$`;
    await injectApiFault(the.stack, { status: 500, times: 1, method: 'GET', pathPattern: path });
    await injectApiFault(the.stack, { status: 429, times: 1, method: 'GET', pathPattern: path });
    const before = paymentGets(the.stack, payment.id).length;

    await setPaymentStatus(the.stack, payment.id, 'approved');
    await orderWithStatus(the.api, the.customer, order.id, 'paid');

    expect(
      paymentGets(the.stack, payment.id)
        .slice(before)
        .map((call) => call.status),
    ).to.deep.equal([500, 429, 200]);
    expect(eventTypes(await settledOrder(the.stack, the.api, the.customer, order.id))).to.deep.equal([
      'placed',
      'payment_approved',
    ]);
  });

  it('when the refund answers 503 then 429, then it is retried with the same key and exactly one refund exists', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    const path = `^/v1/payments/${payment.id}/refunds`;
    await injectApiFault(the.stack, { status: 503, times: 1, method: 'POST', pathPattern: path });
    await injectApiFault(the.stack, { status: 429, times: 1, method: 'POST', pathPattern: path });

    expect((await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'no oat milk' })).status).to.equal(200);
    const refunded = await orderWithStatus(the.api, the.customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);

    const calls = refundCalls(the.stack, payment.id);
    expect(calls.map((call) => call.status)).to.deep.equal([503, 429, 201]);
    expect(new Set(calls.map((call) => call.idempotencyKey))).to.deep.equal(new Set([`refund:${order.id}:${payment.id}`]));
    const refunds = await refundsAtProvider(the.stack, payment.id);
    expect(refunds).to.have.length(1);
    expect(refunded.refundId).to.equal(String(refunds[0]?.id));
    expect(eventTypes(await settledOrder(the.stack, the.api, the.customer, order.id))).to.deep.equal([
      'placed',
      'payment_approved',
      'cancelled',
      'refunded',
    ]);
  });
});
