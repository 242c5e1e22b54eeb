import { expect } from 'chai';
import { orderWithStatus, pay, placeOrder } from '../support/orders';
import {
  eventTypes,
  getOrder,
  injectApiFault,
  injectNotificationFault,
  notificationRow,
  notificationRowsFor,
  notificationsProcessed,
  paymentAtProvider,
  paymentGets,
  postWebhook,
  refundCalls,
  releaseHeld,
  sendNotification,
  setPaymentStatus,
  settledOrder,
} from '../support/payments';
import { useOrderStack } from '../support/use-stack';

describe('payment flows: notifications as MercadoPago really sends them', () => {
  const the = useOrderStack({ name: 'flows-notifications', env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  it('when the same webhook arrives 10 times at once, then it is recorded once, processed once, and the order paid once', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    await injectNotificationFault(the.stack, { type: 'duplicate', copies: 10 });
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await notificationsProcessed(the.stack, [payment.id]);

    const rows = await notificationRowsFor(the.stack, payment.id);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ deliveries: 10, outcome: `${payment.id}:signalled`, signed: true });
    expect(paymentGets(the.stack, payment.id)).to.have.length(1);
    expect(eventTypes(await settledOrder(the.stack, the.api, the.customer, order.id))).to.deep.equal([
      'placed',
      'payment_approved',
    ]);
  });

  for (const release of ['reverse', 'shuffle'] as const) {
    it(`when a rejection, a pending payment and its approval are held and released (${release}), then the order ends paid by the approval, one event per transition`, async () => {
      const order = await placeOrder(the.api, the.customer, the.cafe);
      await injectNotificationFault(the.stack, { type: 'hold' });
      const rejected = await pay(the.stack, order.payment.preferenceId, 'rejected');
      const approved = await pay(the.stack, order.payment.preferenceId, 'pending');
      await setPaymentStatus(the.stack, approved.id, 'approved');
      await injectNotificationFault(the.stack, { type: 'duplicate', copies: 3 });
      await setPaymentStatus(the.stack, approved.id, 'approved');
      expect((await releaseHeld(the.stack, release)).released).to.equal(6);

      await notificationsProcessed(the.stack, [rejected.id, approved.id]);
      const final = await settledOrder(the.stack, the.api, the.customer, order.id);
      expect(final.status).to.equal('paid');
      expect(final.paymentId).to.equal(String(approved.id));
      // A rejection handled after the approval is stale and changes nothing.
      expect(eventTypes(final).join()).to.be.oneOf(['placed,payment_approved', 'placed,payment_rejected,payment_approved']);
    });
  }

  it('when a notified payment belongs to no order of ours, then it is processed as unknown and nothing else happens', async () => {
    const preference = await fetch(`${the.stack.emulator.url}/checkout/preferences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${the.stack.emulator.accessTokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        external_reference: 'another-shop-42',
        notification_url: `${the.stack.baseUrl}/v1/webhooks/mercadopago`,
        items: [{ id: 'tea', title: 'Tea', quantity: 1, unit_price: 10, currency_id: 'ARS' }],
      }),
    }).then((response) => response.json() as Promise<{ id: string }>);
    const payment = await pay(the.stack, preference.id);

    const [row, ...others] = await notificationsProcessed(the.stack, [payment.id]);
    expect(others).to.have.length(0);
    expect(row.outcome).to.equal(`${payment.id}:unknown_order`);
    expect(refundCalls(the.stack, payment.id)).to.have.length(0);
  });

  describe('IPN and merchant-order notifications', () => {
    async function paidWithoutWebhook() {
      const order = await placeOrder(the.api, the.customer, the.cafe);
      await injectNotificationFault(the.stack, { type: 'drop' });
      const payment = await pay(the.stack, order.payment.preferenceId);
      await the.stack.emulator.idle();
      expect((await getOrder(the.api, the.customer, order.id)).status).to.equal('pending_payment');
      return { order, payment, merchantOrderId: (await paymentAtProvider(the.stack, payment.id)).order.id };
    }

    const cases = [
      { name: 'an unsigned IPN ?topic=payment&id=', kind: 'ipn', topic: 'payment' },
      { name: 'an unsigned IPN ?topic=merchant_order&id=', kind: 'ipn', topic: 'merchant_order' },
      { name: 'a signed merchant_order webhook', kind: 'webhook', topic: 'merchant_order' },
    ] as const;
    for (const { name, kind, topic } of cases) {
      it(`when the only notification is ${name}, then the order reaches the same paid state`, async () => {
        const { order, payment, merchantOrderId } = await paidWithoutWebhook();
        const id = topic === 'payment' ? payment.id : merchantOrderId;
        const [delivered] = (await sendNotification(the.stack, { kind, topic, id })).notifications;
        expect(delivered.attempts.map((attempt: { status: number }) => attempt.status)).to.deep.equal([200]);

        const paid = await orderWithStatus(the.api, the.customer, order.id, 'paid');
        expect(paid.paymentId).to.equal(String(payment.id));
        expect(eventTypes(await settledOrder(the.stack, the.api, the.customer, order.id))).to.deep.equal([
          'placed',
          'payment_approved',
        ]);
        const [row] = await notificationRowsFor(the.stack, id, topic);
        expect(row).to.include({ kind, topic, signed: kind === 'webhook' });
      });
    }
  });

  describe('signatures', () => {
    const refusals = [
      { signature: 'forged', code: 'INVALID_SIGNATURE' },
      { signature: 'stale', code: 'STALE_SIGNATURE' },
      { signature: 'missing', code: 'MISSING_SIGNATURE' },
    ] as const;
    for (const { signature, code } of refusals) {
      it(`when a webhook's signature is ${signature}, then it is refused with 401 ${code} and nothing is recorded or started`, async () => {
        const order = await placeOrder(the.api, the.customer, the.cafe);
        await injectNotificationFault(the.stack, { type: 'drop' });
        const payment = await pay(the.stack, order.payment.preferenceId);
        const gets = paymentGets(the.stack, payment.id).length;

        const { response, notificationId } = await postWebhook(the.stack, the.api, { dataId: String(payment.id), signature });

        expect(response.status).to.equal(401);
        expect(response.body.error.code).to.equal(code);
        expect(await notificationRow(the.stack, notificationId)).to.equal(undefined);
        expect(paymentGets(the.stack, payment.id)).to.have.length(gets);
        expect((await getOrder(the.api, the.customer, order.id)).status).to.equal('pending_payment');
      });
    }

    it('when the provider sends forged and stale notifications, then each delivery is refused until a valid one pays the order', async () => {
      const forged = await placeOrder(the.api, the.customer, the.cafe);
      const stale = await placeOrder(the.api, the.customer, the.cafe);
      await injectNotificationFault(the.stack, { type: 'bad_signature' });
      const forgedPayment = await pay(the.stack, forged.payment.preferenceId);
      await injectNotificationFault(the.stack, { type: 'stale_timestamp', ageSeconds: 3600 });
      const stalePayment = await pay(the.stack, stale.payment.preferenceId);
      await the.stack.emulator.idle();

      const records = the.stack.emulator
        .notifications()
        .filter((n) => [forgedPayment.id, stalePayment.id].map(String).includes(n.dataId));
      expect(records.map((n) => n.state)).to.deep.equal(['failed', 'failed']);
      for (const record of records)
        expect(new Set(record.attempts.map((attempt) => attempt.status))).to.deep.equal(new Set([401]));
      expect(await notificationRowsFor(the.stack, forgedPayment.id)).to.have.length(0);
      expect(await notificationRowsFor(the.stack, stalePayment.id)).to.have.length(0);

      await sendNotification(the.stack, { id: forgedPayment.id });
      await sendNotification(the.stack, { id: stalePayment.id });
      await orderWithStatus(the.api, the.customer, forged.id, 'paid');
      await orderWithStatus(the.api, the.customer, stale.id, 'paid');
    });
  });

  it('when processing is slow at the provider, then the webhook is answered 200 before it is handed to the order', async () => {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    await injectNotificationFault(the.stack, { type: 'drop' });
    const payment = await pay(the.stack, order.payment.preferenceId);
    await injectApiFault(the.stack, { delayMs: 2500, times: 1, method: 'GET', pathPattern: `^/v1/payments/${payment.id}/?$` });

    const { response, elapsedMs, notificationId } = await postWebhook(the.stack, the.api, { dataId: String(payment.id) });

    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'accepted' });
    expect(elapsedMs).to.be.below(1500);
    expect((await notificationRow(the.stack, notificationId)).processedAt).to.equal(null);
    expect((await getOrder(the.api, the.customer, order.id)).status).to.equal('pending_payment');
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await notificationsProcessed(the.stack, [payment.id]);
    expect((await notificationRow(the.stack, notificationId)).outcome).to.equal(`${payment.id}:signalled`);
  });
});
