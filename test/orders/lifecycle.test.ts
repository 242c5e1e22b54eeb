import { expect } from 'chai';
import { addMember, registerUser } from '../support/fixtures';
import { act, orderWithStatus, pay, placeOrder } from '../support/orders';
import { useOrderStack } from '../support/use-stack';

describe('order lifecycle through the API', () => {
  const the = useOrderStack({ name: 'lifecycle', customer: false });

  it('when an order is paid, accepted, made ready and picked up, then each step shows in order', async () => {
    const customer = await registerUser(the.api);
    const barista = await registerUser(the.api, 'Barista');
    await addMember(the.api, the.cafe.owner, the.cafe.id, barista, 'staff');
    const order = await placeOrder(the.api, customer, the.cafe);
    expect(order.totalMinor).to.equal(350 * 2 + 1200);
    expect(order.payment.checkoutUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/checkout\/v1\/redirect\?pref_id=/);

    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    expect((await act(the.api, barista, order.id, 'accept')).body.status).to.equal('preparing');
    expect((await act(the.api, barista, order.id, 'ready')).body.status).to.equal('ready');
    const completed = await act(the.api, barista, order.id, 'complete');
    expect(completed.status).to.equal(200);
    expect(completed.body.status).to.equal('completed');

    const final = await orderWithStatus(the.api, customer, order.id, 'completed');
    expect(final.events.map((event: { type: string }) => event.type)).to.deep.equal([
      'placed',
      'payment_approved',
      'accept',
      'ready',
      'complete',
    ]);
    expect(final.events.map((event: { seq: number }) => event.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(final.paymentId).to.be.a('string');
  });

  it('when an action does not fit the status, then it answers 409 with the current status and changes nothing', async () => {
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    const attempts = [
      ['accept', 'pending_payment'],
      ['ready', 'pending_payment'],
      ['complete', 'pending_payment'],
    ] as const;
    for (const [action, status] of attempts) {
      const response = await act(the.api, the.cafe.owner, order.id, action);
      expect(response.status, action).to.equal(409);
      expect(response.body.error.code).to.equal('INVALID_TRANSITION');
      expect(response.body.error.details.status).to.equal(status);
    }
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    for (const action of ['ready', 'complete']) {
      const response = await act(the.api, the.cafe.owner, order.id, action);
      expect(response.status, action).to.equal(409);
      expect(response.body.error.details.status).to.equal('paid');
    }
    await act(the.api, the.cafe.owner, order.id, 'accept');
    expect((await act(the.api, the.cafe.owner, order.id, 'accept')).body.error.details.status).to.equal('preparing');
    const customerCancel = await act(the.api, customer, order.id, 'cancel');
    expect(customerCancel.status).to.equal(409);
    const detail = await the.api.get(`/v1/orders/${order.id}`, { token: customer.token });
    expect(detail.body.status).to.equal('preparing');
    expect(detail.body.events).to.have.length(3);
  });

  it('when a customer tries a staff action, then it is refused with 403', async () => {
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    const response = await act(the.api, customer, order.id, 'accept');
    expect(response.status).to.equal(403);
    expect(response.body.error.code).to.equal('FORBIDDEN');
  });

  it('when the customer cancels before paying, then the order is cancelled and nothing is refunded', async () => {
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    const response = await act(the.api, customer, order.id, 'cancel', { reason: 'changed my mind' });
    expect(response.status).to.equal(200);
    expect(response.body.status).to.equal('cancelled');
    const final = await orderWithStatus(the.api, customer, order.id, 'cancelled');
    expect(final.cancelReason).to.equal('changed my mind');
    expect(final.refundId).to.equal(null);
  });

  it('when staff cancel a paid order, then the payment is refunded once and the order ends refunded', async () => {
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    const cancelled = await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'out of milk' });
    expect(cancelled.body.status).to.equal('cancelled');
    const final = await orderWithStatus(the.api, customer, order.id, 'refunded');
    expect(final.refundId).to.be.a('string');
    const refunds = await fetch(`${the.stack.emulator.url}/v1/payments/${payment.id}/refunds`, {
      headers: { authorization: `Bearer ${the.stack.emulator.accessTokens[0]}` },
    }).then((res) => res.json());
    expect(refunds).to.have.length(1);
    expect(final.events.map((event: { type: string }) => event.type)).to.deep.equal([
      'placed',
      'payment_approved',
      'cancelled',
      'refunded',
    ]);
  });

  it('when a stranger asks for an order, then it answers 404', async () => {
    const customer = await registerUser(the.api);
    const stranger = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    expect((await the.api.get(`/v1/orders/${order.id}`, { token: stranger.token })).status).to.equal(404);
    expect((await act(the.api, stranger, order.id, 'cancel')).status).to.equal(404);
  });
});
