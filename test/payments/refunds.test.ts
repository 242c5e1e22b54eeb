import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'chai';
import { createPaymentActivities, PaymentFailure } from '../../activities/payments';
import { settleClosedOrder } from '../../activities/payments/closed-orders';
import { createMercadoPagoClient, type MercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { findOrder } from '../../db/repositories/orders';
import { act, emulatorControl, orderWithStatus, pay, placeOrder } from '../support/orders';
import { eventTypes, getOrder, refundCalls, refundsAtProvider, setPaymentStatus, settledOrder } from '../support/payments';
import { useOrderStack } from '../support/use-stack';

/** Refunds read what the provider already gave back and ask only for the rest; a refusal is a typed, final failure. */
describe('refunds that reflect the provider', () => {
  const the = useOrderStack({ name: 'refunds', env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  let mercadopago: MercadoPagoClient;
  let activities: ReturnType<typeof createPaymentActivities>;

  before(() => {
    mercadopago = createMercadoPagoClient({
      accessToken: the.stack.emulator.accessTokens[0]!,
      apiUrl: the.stack.emulator.url,
      timeoutMs: 5000,
    });
    activities = createPaymentActivities({
      db: the.stack.db,
      logger: the.stack.logger,
      metrics: the.stack.metrics,
      mercadopago,
      publicBaseUrl: the.stack.baseUrl,
    });
  });

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
    await emulatorControl(the.stack, 'config', { deliverNotifications: false });
    try {
      const payment = await pay(the.stack, preference.id);
      return { orderId, paymentId: String(payment.id) };
    } finally {
      await emulatorControl(the.stack, 'config', { deliverNotifications: true });
    }
  }

  const refundAtProvider = (paymentId: string, amount?: number) =>
    emulatorControl(the.stack, `payments/${paymentId}/refunds`, amount === undefined ? {} : { amount });

  describe('the refundPayment activity', () => {
    it('when the provider already refunded part, then only the remainder is refunded, under a key that names what was refunded', async () => {
      const { orderId, paymentId } = await providerPayment();
      await refundAtProvider(paymentId, 4.98);

      const { refundId } = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      const calls = refundCalls(the.stack, paymentId);
      expect(calls.map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${orderId}:${paymentId}:after-498`, { amount: 20 }],
      ]);
      const refunds = await refundsAtProvider(the.stack, paymentId);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([4.98, 20]);
      expect(refundId).to.equal(String(refunds[1]!.id));
      expect((await mercadopago.getPayment(paymentId)).status).to.equal('refunded');
    });

    it('when nothing was refunded before, then the whole amount goes back under the plain key', async () => {
      const { orderId, paymentId } = await providerPayment();

      await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      expect(refundCalls(the.stack, paymentId).map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${orderId}:${paymentId}`, { amount: 24.98 }],
      ]);
    });

    it('when the provider already refunded everything, then no refund is asked for and the existing refund is the answer', async () => {
      const { orderId, paymentId } = await providerPayment();
      await refundAtProvider(paymentId, 4.98);
      const { refund: last } = await refundAtProvider(paymentId);

      const result = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' });

      expect(result).to.deep.equal({ refundId: String(last.id) });
      expect(refundCalls(the.stack, paymentId)).to.have.length(0);
    });

    it('when the refund is retried after it went through, then the money goes back once', async () => {
      const { orderId, paymentId } = await providerPayment();
      const input = { orderId, paymentId, amountMinor: 2498, reason: 'cancelled' };

      const first = await activities.refundPayment(input);
      const retried = await activities.refundPayment(input);

      expect(retried).to.deep.equal(first);
      expect(await refundsAtProvider(the.stack, paymentId)).to.have.length(1);
    });

    it('when the provider refuses the refund, then a non-retryable PaymentFailure.ProviderRejected with the provider status', async () => {
      const { orderId, paymentId } = await providerPayment();
      await emulatorControl(the.stack, 'config', { deliverNotifications: false });
      try {
        await setPaymentStatus(the.stack, paymentId, 'in_mediation');
      } finally {
        await emulatorControl(the.stack, 'config', { deliverNotifications: true });
      }

      const failure = await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' }).then(
        () => expect.fail('the refund should have been refused'),
        (error: unknown) => error,
      );

      expect(failure).to.be.instanceOf(ApplicationFailure);
      expect(failure).to.include({ type: PaymentFailure.ProviderRejected, nonRetryable: true });
      expect((failure as ApplicationFailure).details?.[0]).to.deep.include({ status: 400 });
      expect(await refundsAtProvider(the.stack, paymentId)).to.deep.equal([]);
    });

    it('when the payment was charged back, then nothing is refunded and there is no refund id', async () => {
      const { orderId, paymentId } = await providerPayment();
      await emulatorControl(the.stack, 'config', { deliverNotifications: false });
      try {
        await setPaymentStatus(the.stack, paymentId, 'charged_back');
      } finally {
        await emulatorControl(the.stack, 'config', { deliverNotifications: true });
      }

      expect(await activities.refundPayment({ orderId, paymentId, amountMinor: 2498, reason: 'cancelled' })).to.deep.equal({
        refundId: null,
      });
      expect(refundCalls(the.stack, paymentId)).to.have.length(0);
    });
  });

  describe('end to end', () => {
    it('when a paid order was partly refunded at the provider and is then cancelled, then only what is left is refunded', async () => {
      const order = await placeOrder(the.api, the.customer, the.cafe);
      const payment = await pay(the.stack, order.payment.preferenceId);
      await orderWithStatus(the.api, the.customer, order.id, 'paid');
      await refundAtProvider(String(payment.id), 3.5);

      const cancelled = await act(the.api, the.cafe.owner, order.id, 'cancel', { reason: 'out of milk' });
      const final = await orderWithStatus(the.api, the.customer, order.id, 'refunded');

      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(order.totalMinor).to.equal(1900);
      const refunds = await refundsAtProvider(the.stack, payment.id);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([3.5, 15.5]);
      expect(refundCalls(the.stack, payment.id).map((call) => call.body)).to.deep.equal([{ amount: 15.5 }]);
      expect(final.refundId).to.equal(String(refunds[1]!.id));
    });

    it('when a late payment to a closed order was partly refunded at the provider, then settling it refunds only the rest', async () => {
      const order = await placeOrder(the.api, the.customer, the.cafe);
      await pay(the.stack, order.payment.preferenceId);
      await orderWithStatus(the.api, the.customer, order.id, 'paid');
      for (const action of ['accept', 'ready', 'complete'])
        expect((await act(the.api, the.cafe.owner, order.id, action)).status).to.equal(200);
      await settledOrder(the.stack, the.api, the.customer, order.id);
      await emulatorControl(the.stack, 'config', { deliverNotifications: false });
      let late: { id: string | number };
      try {
        late = await pay(the.stack, order.payment.preferenceId);
        await refundAtProvider(String(late.id), 10);
      } finally {
        await emulatorControl(the.stack, 'config', { deliverNotifications: true });
      }

      const row = await findOrder(the.stack.db, order.id);
      const deps = { db: the.stack.db, mercadopago, logger: the.stack.logger, metrics: the.stack.metrics };
      await settleClosedOrder(deps, row!, await mercadopago.getPayment(late.id));

      const refunds = await refundsAtProvider(the.stack, late.id);
      expect(refunds.map((refund) => refund.amount)).to.deep.equal([10, 9]);
      expect(refundCalls(the.stack, late.id).map((call) => [call.idempotencyKey, call.body])).to.deep.equal([
        [`refund:${order.id}:${late.id}:after-1000`, { amount: 9 }],
      ]);
      const final = await getOrder(the.api, the.customer, order.id);
      expect(final.status).to.equal('completed');
      expect(eventTypes(final).at(-1)).to.equal('payment_refunded');
      expect(final.events.at(-1)?.data).to.deep.include({ paymentId: String(late.id), refundId: String(refunds[1]!.id) });
    });
  });
});
