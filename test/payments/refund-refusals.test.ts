import { expect } from 'chai';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { act, openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';
import { eventTypes, injectApiFault, refundsAtProvider, settledOrder } from '../support/payments';
import { startStack, type TestStack } from '../support/stack';

describe('payment flows: a refund the provider refuses', () => {
  let stack: TestStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;

  before(async () => {
    stack = await startStack({ name: 'refund-refusals' });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
  });
  after(() => stack?.stop());

  it('when MercadoPago refuses the refund of a cancelled order, then the refusal is recorded on the order, counted for the alert, and the workflow ends cleanly', async () => {
    const order = await placeOrder(api, customer, cafe);
    const payment = await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await injectApiFault(stack, { status: 400, times: 5, method: 'POST', pathPattern: `^/v1/payments/${payment.id}/refunds/?$` });

    expect((await act(api, cafe.owner, order.id, 'cancel', { reason: 'out of milk' })).status).to.equal(200);

    const handle = stack.client.workflow.getHandle(orderWorkflowId(cafe.id, order.id));
    const view = await handle.result();
    expect(view.status).to.equal('cancelled');
    expect((await handle.describe()).status.name).to.equal('COMPLETED');
    const settled = await settledOrder(stack, api, customer, order.id);
    expect(eventTypes(settled)).to.deep.equal(['placed', 'payment_approved', 'cancelled', 'refund_failed']);
    const refusal = settled.events.at(-1)!;
    expect(refusal.data).to.include({ paymentId: String(payment.id), amountMinor: order.totalMinor, reason: 'order_cancelled' });
    expect(String(refusal.data.error)).to.match(/MercadoPago refused/);
    expect(await refundsAtProvider(stack, payment.id)).to.have.length(0);
    const metrics = await stack.metrics.registry.getSingleMetricAsString('payments_total');
    expect(metrics).to.match(/result="refund_refused"\} 1/);
    expect(await stack.metrics.registry.getSingleMetricAsString('activity_executions_total')).to.match(
      /activity="refundPayment",result="failure"\} 1/,
    );
  });
});
