import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'chai';
import { createPaymentActivities, PaymentFailure } from '../../activities/payments';
import { settleClosedOrder } from '../../activities/payments/closed-orders';
import { createMercadoPagoClient, type MercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { findOrder } from '../../db/repositories/orders';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { act, emulatorControl, openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';
import { eventTypes, getOrder, refundCalls, refundsAtProvider, setPaymentStatus, settledOrder } from '../support/payments';
import { startStack, type TestStack } from '../support/stack';

/** Refunds read what the provider already gave back and ask only for the rest; a refusal is a typed, final failure. */
describe('refunds that reflect the provider', () => {
  let stack: TestStack;
  let api: HttpClient;
  let cafe: Cafe;
  let customer: TestUser;
  let mercadopago: MercadoPagoClient;
  let activities: ReturnType<typeof createPaymentActivities>;

  before(async () => {
    stack = await startStack({ name: 'refunds', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
    customer = await registerUser(api);
    mercadopago = createMercadoPagoClient({
      accessToken: stack.emulator.accessTokens[0]!,
      apiUrl: stack.emulator.url,
      timeoutMs: 5000,
    });
    activities = createPaymentActivities({
      db: stack.db,
      logger: stack.logger,
      metrics: stack.metrics,
      mercadopago,
      publicBaseUrl: stack.baseUrl,
    });
  });
  after(() => stack?.stop());

  /** A payment of 2498 ARS at the emulator, with no order behind it: the activity only needs ids. */
  async function providerPayment() {
    const orderId = randomUUID();
    const preference = await mercadopago.createPreference(
      {
        externalReference: orderId,
        currencyId: 'ARS',
        items: [{ id: 'latte', title: 'Latte', quantity: 2, unitPriceMinor: 1249 }],
      },
      `preference:${orderId}`,
    );
    await emulatorControl(stack, 'config', { deliverNotifications: false });
    try {
      const payment = await pay(stack, preference.id);
      return { orderId, paymentId: String(payment.id) };
    } finally {
      await emulatorControl(stack, 'config', { deliverNotifications: true });
    }
  }

  const refundAtProvider = (paymentId: string, amount?: number) =>
    emulatorControl(stack, `payments/${paymentId}/refunds`, amount === undefined ? {} : { amount });

  describe('the refundPayment activity', () => {
    it('when the provider already refunded part, then only the remainder is refunded, under a key that names what was refunded', async () => {
      const { orderId, paymentId } = await providerPayment();
      await refundAtProvider(paymentId, 4.98);

      const { refundId } = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      const calls = refundCalls(stack, paymentId);
      expect(calls.map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${orderId}:${paymentId}:after-498`, { amount: 20 }],
      ]);
      const refunds = await refundsAtProvider(stack, paymentId);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([4.98, 20]);
      expect(refundId).to.equal(String(refunds[1]!.id));
      expect((await mercadopago.getPayment(paymentId)).status).to.equal('refunded');
    });

    it('when nothing was refunded before, then the whole amount goes back under the plain key', async () => {
      const { orderId, paymentId } = await providerPayment();

      await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      expect(refundCalls(stack, paymentId).map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${orderId}:${paymentId}`, { amount: 24.98 }],
      ]);
    });

    it('when the provider already refunded everything, then no refund is asked for and the existing refund is the answer', async () => {
      const { orderId, paymentId } = await providerPayment();
      await refundAtProvider(paymentId, 4.98);
      const { refund: last } = await refundAtProvider(paymentId);

      const result = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      expect(result).to.deep.equal({ refundId: String(last.id) });
      expect(refundCalls(stack, paymentId)).to.have.length(0);
    });

    it('when the refund is retried after it went through, then the money goes back once', async () => {
      const { orderId, paymentId } = await providerPayment();
      const input = { orderId, paymentId, amountMinor: 2498, reason: 'cancelled' };

      const first = await activities.refundPayment(input);
      const retried = await activities.refundPayment(input);

      expect(retried).to.deep.equal(first);
      expect(await refundsAtProvider(stack, paymentId)).to.have.length(1);
    });

    it('when the provider refuses the refund, then a non-retryable PaymentFailure.ProviderRejected with the provider status', async () => {
      const { orderId, paymentId } = await providerPayment();
      await emulatorControl(stack, 'config', { deliverNotifications: false });
      try {
        await setPaymentStatus(stack, paymentId, 'in_mediation');
      } finally {
        await emulatorControl(stack, 'config', { deliverNotifications: true });
      }

      const failure = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' }).then(
        () => expect.fail('the refund should have been refused'),
        (error: unknown) => error,
      );

      expect(failure).to.be.instanceOf(ApplicationFailure);
      expect(failure).to.include({ type: PaymentFailure.ProviderRejected, nonRetryable: true });
      expect((failure as ApplicationFailure).details?.[0]).to.deep.include({ status: 400 });
      expect(await refundsAtProvider(stack, paymentId)).to.deep.equal([]);
    });

    it('when the payment was charged back, then nothing is refunded and there is no refund id', async () => {
      const { orderId, paymentId } = await providerPayment();
      await emulatorControl(stack, 'config', { deliverNotifications: false });
      try {
        await setPaymentStatus(stack, paymentId, 'charged_back');
      } finally {
        await emulatorControl(stack, 'config', { deliverNotifications: true });
      }

      expect(await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' })).to.deep.equal({
        refundId: null,
      });
      expect(refundCalls(stack, paymentId)).to.have.length(0);
    });
  });

  describe('end to end', () => {
    it('when a paid order was partly refunded at the provider and is then cancelled, then only what is left is refunded', async () => {
      const order = await placeOrder(api, customer, cafe);
      const payment = await pay(stack, order.payment.preferenceId);
      await orderWithStatus(api, customer, order.id, 'paid');
      await refundAtProvider(String(payment.id), 3.5);

      const cancelled = await act(api, cafe.owner, order.id, 'cancel', { reason: 'out of milk' });
      const final = await orderWithStatus(api, customer, order.id, 'refunded');

      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(order.totalMinor).to.equal(1900);
      const refunds = await refundsAtProvider(stack, payment.id);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([3.5, 15.5]);
      expect(refundCalls(stack, payment.id).map((call) => call.body)).to.deep.equal([{ amount: 15.5 }]);
      expect(final.refundId).to.equal(String(refunds[1]!.id));
    });

    it('when a late payment to a closed order was partly refunded at the provider, then settling it refunds only the rest', async () => {
      const order = await placeOrder(api, customer, cafe);
      await pay(stack, order.payment.preferenceId);
      await orderWithStatus(api, customer, order.id, 'paid');
      for (const action of ['accept', 'ready', 'complete'])
        expect((await act(api, cafe.owner, order.id, action)).status).to.equal(200);
      await settledOrder(stack, api, customer, order.id);
      await emulatorControl(stack, 'config', { deliverNotifications: false });
      let late: { id: string | number };
      try {
        late = await pay(stack, order.payment.preferenceId);
        await refundAtProvider(String(late.id), 10);
      } finally {
        await emulatorControl(stack, 'config', { deliverNotifications: true });
      }

      const row = await findOrder(stack.db, order.id);
      const deps = { db: stack.db, mercadopago, logger: stack.logger, metrics: stack.metrics };
      await settleClosedOrder(deps, row!, await mercadopago.getPayment(late.id));

      const refunds = await refundsAtProvider(stack, late.id);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([10, 9]);
      expect(refundCalls(stack, late.id).map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${order.id}:${late.id}:after-1000`, { amount: 9 }],
      ]);
      const final = await getOrder(api, customer, order.id);
      expect(final.status).to.equal('completed');
      expect(eventTypes(final).at(-1)).to.equal('payment_refunded');
      expect(final.events.at(-1)?.data).to.deep.include({ paymentId: String(late.id), refundId: String(refunds[1]!.id) });
    });
  });
});
