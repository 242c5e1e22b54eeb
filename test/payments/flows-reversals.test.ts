import { expect } from 'chai';
import { act, eventually, orderWithStatus, pay, placeOrder } from '../support/orders';
import {
  eventTypes,
  getOrder,
  injectApiFault,
  notificationsProcessed,
  orderWhere,
  refundAtProvider,
  refundCalls,
  refundsAtProvider,
  setPaymentStatus,
  settledOrder,
  workflowStatus,
} from '../support/payments';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { useOrderStack } from '../support/use-stack';

describe('payment flows: money going back after payment', () => {
  const the = useOrderStack({ name: 'flows-reversals', env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  async function paidOrder() {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    return { order, payment };
  }

  async function completedOrder() {
    const { order, payment } = await paidOrder();
    for (const action of ['accept', 'ready', 'complete'])
      expect((await act(the.api, the.cafe.owner, order.id, action)).status).to.equal(200);
    // The closed-order path only runs once the workflow has finished.
    await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(await workflowStatus(the.stack, orderWorkflowId(the.cafe.id, order.id))).to.equal('COMPLETED');
    return { order, payment };
  }

  it('when a paid order is charged back, then it ends refunded with one chargeback event and we refund nothing', async () => {
    const { order, payment } = await paidOrder();
    await setPaymentStatus(the.stack, payment.id, 'charged_back');
    await orderWithStatus(the.api, the.customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);

    const final = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved', 'payment_charged_back']);
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
  });

  it('when the provider refunds a paid order on its own, then the order ends refunded and we do not refund again', async () => {
    const { order, payment } = await paidOrder();
    await refundAtProvider(the.stack, payment.id);
    await orderWithStatus(the.api, the.customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);

    const final = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved', 'payment_refunded']);
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
    expect(await refundsAtProvider(the.stack, payment.id)).to.have.length(1);
  });

  it('when a completed order is charged back, then the finished order is moved to refunded once', async () => {
    const { order, payment } = await completedOrder();
    await setPaymentStatus(the.stack, payment.id, 'charged_back');
    await notificationsProcessed(the.stack, [payment.id]);
    // A redelivery of the same chargeback changes nothing more.
    await setPaymentStatus(the.stack, payment.id, 'charged_back');
    await notificationsProcessed(the.stack, [payment.id]);

    const final = await getOrder(the.api, the.customer, order.id);
    expect(final.status).to.equal('refunded');
    expect(eventTypes(final)).to.deep.equal([
      'placed',
      'payment_approved',
      'accept',
      'ready',
      'complete',
      'payment_charged_back',
    ]);
    expect(final.events.at(-1)).to.deep.include({ fromStatus: 'completed', toStatus: 'refunded' });
    expect(final.refundId).to.equal(null);
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
  });

  it('when the provider refunds a completed order, then it ends refunded showing the provider refund', async () => {
    const { order, payment } = await completedOrder();
    const { refund } = await refundAtProvider(the.stack, payment.id);
    const final = await orderWithStatus(the.api, the.customer, order.id, 'refunded');

    expect(eventTypes(final).at(-1)).to.equal('payment_refunded');
    expect(final.refundId).to.equal(String(refund.id));
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
  });

  it('when a late second payment reaches a completed order, then only it is refunded and the order keeps its own payment', async () => {
    const { order, payment } = await completedOrder();
    const late = await pay(the.stack, order.payment.preferenceId);
    const final = await orderWhere(the.api, the.customer, order.id, (o) => eventTypes(o).includes('payment_refunded'));
    await notificationsProcessed(the.stack, [late.id]);

    const [refund, ...others] = await refundsAtProvider(the.stack, late.id);
    expect(others).to.have.length(0);
    expect(final.status).to.equal('completed');
    expect(final.paymentId).to.equal(String(payment.id));
    // The order's own payment was not refunded: a late payment's refund is not the order's refundId.
    expect(final.refundId).to.equal(null);
    expect(final.events.at(-1)?.data).to.deep.include({ paymentId: String(late.id), refundId: String(refund?.id) });
    expect(refundCalls(the.stack, late.id).map((call) => call.idempotencyKey)).to.deep.equal([`refund:${order.id}:${late.id}`]);
    expect(await refundsAtProvider(the.stack, payment.id)).to.have.length(0);
    expect(
      eventTypes(await getOrder(the.api, the.customer, order.id)).filter((type) => type === 'payment_refunded'),
    ).to.have.length(1);
  });

  it('when a paid order is charged back while its cancellation refund is being retried, then it ends refunded, not stuck', async () => {
    const { order, payment } = await paidOrder();
    await injectApiFault(the.stack, {
      status: 503,
      times: 1,
      method: 'POST',
      pathPattern: `^/v1/payments/${payment.id}/refunds`,
    });
    expect((await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'closing early' })).status).to.equal(200);
    await eventually(
      async () => refundCalls(the.stack, payment.id).length,
      (attempts) => attempts > 0,
    );
    await setPaymentStatus(the.stack, payment.id, 'charged_back');

    const final = await orderWithStatus(the.api, the.customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);
    expect(eventTypes(await settledOrder(the.stack, the.api, the.customer, order.id))).to.deep.equal([
      'placed',
      'payment_approved',
      'cancelled',
      'refunded',
    ]);
    expect(final.refundId).to.equal(null);
    // The provider refuses refunds of a charged-back payment for good: none was attempted after it.
    expect(refundCalls(the.stack, payment.id).map((call) => call.status)).to.deep.equal([503]);
    expect(await workflowStatus(the.stack, orderWorkflowId(the.cafe.id, order.id))).to.equal('COMPLETED');
  });
});
