import { expect } from 'chai';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { act, orderWithStatus, pay, placeOrder } from '../support/orders';
import { eventTypes, injectApiFault, refundsAtProvider, settledOrder } from '../support/payments';
import { useOrderStack } from '../support/use-stack';

describe('payment flows: a refund the provider refuses', () => {
  const the = useOrderStack({ name: 'refund-refusals' });

  it('when MercadoPago refuses the refund of a cancelled order, then the refusal is recorded on the order, counted for the alert, and the workflow ends cleanly', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await injectApiFault(the.stack, {
      status: 400,
      times: 5,
      method: 'POST',
      pathPattern: `^/v1/payments/${payment.id}/refunds/?$`,
    });

    expect((await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'out of milk' })).status).to.equal(200);

    const handle = the.stack.client.workflow.getHandle(orderWorkflowId(the.cafe.id, order.id));
    const view = await handle.result();
    expect(view.status).to.equal('cancelled');
    expect((await handle.describe()).status.name).to.equal('COMPLETED');
    const settled = await settledOrder(the.stack, the.api, the.customer, order.id);
    expect(eventTypes(settled)).to.deep.equal(['placed', 'payment_approved', 'cancelled', 'refund_failed']);
    const refusal = settled.events.at(-1)!;
    expect(refusal.data).to.include({ paymentId: String(payment.id), amountMinor: order.totalMinor, reason: 'order_cancelled' });
    expect(String(refusal.data.error)).to.match(/MercadoPago refused/);
    expect(await refundsAtProvider(the.stack, payment.id)).to.have.length(0);
    const metrics = await the.stack.metrics.registry.getSingleMetricAsString('payments_total');
    expect(metrics).to.match(/result="refund_refused"\} 1/);
    expect(await the.stack.metrics.registry.getSingleMetricAsString('activity_executions_total')).to.match(
      /activity="refundPayment",result="failure"\} 1/,
    );
  });
});
