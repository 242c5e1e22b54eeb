import { expect } from 'chai';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';
import {
  eventTypes,
  injectApiFault,
  injectNotificationFault,
  notificationsProcessed,
  orderWhere,
  preferenceCreates,
  providerCalls,
  refundCalls,
  refundEventsFor,
  refundsAtProvider,
  setPaymentStatus,
  settledOrder,
} from '../support/payments';
import { startStack, type TestStack } from '../support/stack';
import { useOrderStack } from '../support/use-stack';

const searchesFor = (stack: TestStack, orderId: string) =>
  providerCalls(stack, 'GET', /^\/v1\/payments\/search\/?$/).filter((call) => call.query.external_reference === orderId);

describe('payment flows: the payment deadline', () => {
  let stack: TestStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;

  before(async () => {
    // Real seconds on the dev server: short enough to wait for, long enough to pay before.
    stack = await startStack({ name: 'flows-deadlines', env: { PAYMENT_TIMEOUT_SECONDS: '3', RATE_LIMIT_PER_MINUTE: '100000' } });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
  });
  after(() => stack?.stop());

  it('when nobody pays by the deadline, then the provider is asked first, and the order expires', async () => {
    const order = await placeOrder(api, customer, cafe);
    expect(preferenceCreates(stack, order.id)[0]?.body).to.deep.include({
      expires: true,
      expiration_date_to: order.payment.deadline.replace('Z', '+00:00'),
    });

    const expired = await orderWithStatus(api, customer, order.id, 'expired');

    expect(eventTypes(expired)).to.deep.equal(['placed', 'expired']);
    const searches = searchesFor(stack, order.id);
    expect(searches.map((call) => call.status)).to.deep.equal([200]);
    expect(Date.parse(searches[0]!.at)).to.be.at.least(Date.parse(order.payment.deadline));
  });

  it('when every webhook of an approved payment is lost, then reconciliation at the deadline makes the order paid, not expired', async () => {
    const order = await placeOrder(api, customer, cafe);
    await injectNotificationFault(stack, { type: 'drop' });
    const payment = await pay(stack, order.payment.preferenceId);
    // The reconciliation's own call fails once too: Temporal retries it rather than expiring.
    await injectApiFault(stack, { status: 503, times: 1, method: 'GET', pathPattern: '^/v1/payments/search' });

    const paid = await orderWithStatus(api, customer, order.id, 'paid');

    expect(paid.paymentId).to.equal(String(payment.id));
    expect(eventTypes(paid)).to.deep.equal(['placed', 'payment_approved']);
    expect(paid.events[1].data).to.include({ paymentId: String(payment.id), statusDetail: 'reconciled' });
    expect(searchesFor(stack, order.id).map((call) => call.status)).to.deep.equal([503, 200]);
    expect(stack.emulator.notifications().filter((n) => n.dataId === String(payment.id))[0]?.state).to.equal('dropped');
    expect(refundCalls(stack, payment.id)).to.have.length(0);
  });

  it('when a pending payment is approved after the order expired, then that money is refunded exactly once and shown on the order', async () => {
    const order = await placeOrder(api, customer, cafe);
    const payment = await pay(stack, order.payment.preferenceId, 'pending');
    await notificationsProcessed(stack, [payment.id]);
    await orderWithStatus(api, customer, order.id, 'expired');
    expect(searchesFor(stack, order.id)).to.have.length(1);

    await setPaymentStatus(stack, payment.id, 'approved');
    const shown = await orderWhere(api, customer, order.id, (o) => refundEventsFor(o, payment.id).length > 0);
    await notificationsProcessed(stack, [payment.id]);

    const refunds = await refundsAtProvider(stack, payment.id);
    expect(refunds).to.have.length(1);
    expect(refunds[0]?.amount).to.equal(order.totalMinor / 100);
    expect(refundCalls(stack, payment.id).map((call) => call.idempotencyKey)).to.deep.equal([`refund:${order.id}:${payment.id}`]);
    const final = await settledOrder(stack, api, customer, order.id);
    expect(final.status).to.equal('expired');
    expect(final.paymentId).to.equal(null);
    expect(final.refundId).to.equal(null);
    const [event, ...more] = refundEventsFor(final, payment.id);
    expect(more).to.have.length(0);
    expect(event?.data).to.include({
      paymentId: String(payment.id),
      refundId: String(refunds[0]?.id),
      reason: 'paid_while_expired',
    });
    expect(shown.status).to.equal('expired');
  });

  it('when a second approved payment of a paid order loses every webhook, then reconciliation at the deadline refunds it once', async () => {
    const order = await placeOrder(api, customer, cafe);
    const first = await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await injectNotificationFault(stack, { type: 'drop' });
    const second = await pay(stack, order.payment.preferenceId);

    const refunded = await orderWhere(api, customer, order.id, (o) => refundEventsFor(o, second.id).length > 0, 20_000);

    expect(refunded.status).to.equal('paid');
    expect(refunded.paymentId).to.equal(String(first.id));
    expect(await refundsAtProvider(stack, second.id)).to.have.length(1);
    expect(await refundsAtProvider(stack, first.id)).to.have.length(0);
    expect(searchesFor(stack, order.id).length).to.be.greaterThan(0);
  });
});

describe('payment flows: the accept deadline', () => {
  const the = useOrderStack({
    name: 'flows-accept',
    env: { ACCEPT_TIMEOUT_SECONDS: '2', RATE_LIMIT_PER_MINUTE: '100000' },
    cafe: false,
    customer: false,
  });

  it('when a paid order is not accepted in time, then it is cancelled and its payment refunded once', async () => {
    const cafe = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');

    const refunded = await orderWithStatus(the.api, customer, order.id, 'refunded');
    await notificationsProcessed(the.stack, [payment.id]);

    expect(refunded.cancelReason).to.equal('not_accepted_in_time');
    const refunds = await refundsAtProvider(the.stack, payment.id);
    expect(refunds).to.have.length(1);
    expect(refunded.refundId).to.equal(String(refunds[0]?.id));
    const final = await settledOrder(the.stack, the.api, customer, order.id);
    expect(eventTypes(final)).to.deep.equal(['placed', 'payment_approved', 'cancelled', 'refunded']);
  });
});
