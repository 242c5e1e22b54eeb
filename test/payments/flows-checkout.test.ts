import { expect } from 'chai';
import { act, orderWithStatus, pay, placeOrder } from '../support/orders';
import {
  eventTypes,
  getOrder,
  notificationsProcessed,
  orderWhere,
  paymentGets,
  preferenceCreates,
  refundCalls,
  refundEventsFor,
  refundsAtProvider,
  setPaymentStatus,
  settledOrder,
} from '../support/payments';
import { useOrderStack } from '../support/use-stack';

describe('payment flows: checkout through the real webhook path', () => {
  const the = useOrderStack({ name: 'flows-checkout', env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  it('when the buyer pays approved, then the order is paid with that payment, fetched from the provider, one event', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const [create] = preferenceCreates(the.stack, order.id);
    expect(create?.idempotencyKey).to.equal(`preference:${order.id}`);
    expect(create?.body).to.deep.include({ external_reference: order.id });

    const payment = await pay(the.stack, order.payment.preferenceId);
    const paid = await orderWithStatus(the.api, the.customer, order.id, 'paid');

    expect(paid.paymentId).to.equal(String(payment.id));
    expect(paid.refundId).to.equal(null);
    expect(paid.events.map((event: { type: string }) => event.type)).to.deep.equal(['placed', 'payment_approved']);
    expect(paid.events[1].data).to.include({ paymentId: String(payment.id), paymentStatus: 'approved' });
    // The webhook body is never trusted: the payment itself was read from the provider.
    expect(paymentGets(the.stack, payment.id).map((entry) => entry.status)).to.include(200);
    const row = await the.stack.db('orders').where({ id: order.id }).first();
    expect(row).to.include({ status: 'paid', paymentId: String(payment.id) });
    expect(row.paidAt).to.be.instanceOf(Date);
  });

  it('when the first payment is rejected and a second one on the same preference approved, then the order is paid by the second', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const rejected = await pay(the.stack, order.payment.preferenceId, 'rejected');
    await orderWhere(the.api, the.customer, order.id, (o) => eventTypes(o).includes('payment_rejected'));
    const afterReject = await getOrder(the.api, the.customer, order.id);
    expect(afterReject.status).to.equal('pending_payment');

    const approved = await pay(the.stack, order.payment.preferenceId, 'approved');
    const paid = await orderWithStatus(the.api, the.customer, order.id, 'paid');

    expect(paid.paymentId).to.equal(String(approved.id));
    expect(eventTypes(paid)).to.deep.equal(['placed', 'payment_rejected', 'payment_approved']);
    expect(paid.events[1].data).to.include({ paymentId: String(rejected.id), paymentStatus: 'rejected' });
    expect(refundCalls(the.stack, rejected.id)).to.have.length(0);
  });

  it('when a payment is pending and the provider later approves it, then the order waits, then becomes paid', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId, 'pending');
    await notificationsProcessed(the.stack, [payment.id]);
    expect((await getOrder(the.api, the.customer, order.id)).status).to.equal('pending_payment');

    await setPaymentStatus(the.stack, payment.id, 'approved');
    const paid = await orderWithStatus(the.api, the.customer, order.id, 'paid');

    expect(paid.paymentId).to.equal(String(payment.id));
    expect(eventTypes(paid)).to.deep.equal(['placed', 'payment_approved']);
  });

  it('when staff cancel a paid order, then its payment is refunded once with the refund key and the order ends refunded', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');

    expect((await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'machine broke' })).status).to.equal(200);
    const refunded = await orderWithStatus(the.api, the.customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);

    const refunds = await refundsAtProvider(the.stack, payment.id);
    expect(refunds).to.have.length(1);
    expect(refunds[0]?.amount).to.equal(order.totalMinor / 100);
    expect(refunded.refundId).to.equal(String(refunds[0]?.id));
    expect(refundCalls(the.stack, payment.id).map((entry) => entry.idempotencyKey)).to.deep.equal([
      `refund:${order.id}:${payment.id}`,
    ]);
    // The refund's own payment.updated webhook comes back to us and must not add a second reversal.
    const final = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved', 'cancelled', 'refunded']);
  });

  it('when a second payment is approved on an already paid order, then only the extra one is refunded, once', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const first = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    const second = await pay(the.stack, order.payment.preferenceId);

    const settled = await orderWhere(the.api, the.customer, order.id, (o) => eventTypes(o).includes('payment_refunded'));
    await notificationsProcessed(the.stack, [first.id, second.id]);

    expect(settled.status).to.equal('paid');
    expect(settled.paymentId).to.equal(String(first.id));
    expect(settled.refundId).to.equal(null);
    expect(await refundsAtProvider(the.stack, first.id)).to.have.length(0);
    expect(await refundsAtProvider(the.stack, second.id)).to.have.length(1);
    const final = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved', 'payment_to_refund', 'payment_refunded']);
    expect(refundEventsFor(final, second.id)[0]?.data.reason).to.equal('duplicate_payment');
  });

  it('when a stale status of the paying payment lands between two approvals, then the order stays paid and nothing is refunded', async () => {
    // A notification workflow that read "pending" before the approval can signal after it; a
    // later redelivery of the approval must still be recognised as the order's own payment.
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await setPaymentStatus(the.stack, payment.id, 'pending');
    await notificationsProcessed(the.stack, [payment.id]);
    await setPaymentStatus(the.stack, payment.id, 'approved');
    await notificationsProcessed(the.stack, [payment.id]);

    const final = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(final.status).to.equal('paid');
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved']);
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
    expect(await refundsAtProvider(the.stack, payment.id)).to.have.length(0);
  });
});
