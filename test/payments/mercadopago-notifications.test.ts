import { expect } from 'chai';
import { WebhookSignatureValidator } from 'mercadopago';
import type { MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import {
  SECRET,
  createPaidPreference,
  http,
  signatureIsValid,
  signatureTs,
  startReceiver,
  startTestEmulator,
  type Receiver,
} from './mercadopago-test-support';

describe('MercadoPago emulator: notifications', () => {
  let emulator: MercadoPagoEmulator;
  let receiver: Receiver;

  before(async () => {
    emulator = await startTestEmulator();
  });
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await emulator.idle();
    emulator.reset();
    await receiver.close();
  });
  after(() => emulator.stop());

  const pay = (ref: string, status = 'approved') =>
    createPaidPreference(emulator, ref, { notificationUrl: receiver.url, status });

  it('when the buyer pays, then a signed payment.created webhook reaches notification_url exactly as MercadoPago sends it', async () => {
    const { payment } = await pay('order-hook');
    const [hook] = await receiver.waitFor(1);

    expect(hook?.url.pathname).to.equal('/webhooks/mercadopago');
    expect(hook?.url.searchParams.get('data.id')).to.equal(String(payment.id));
    expect(hook?.url.searchParams.get('type')).to.equal('payment');
    expect(hook?.body).to.deep.include({
      action: 'payment.created',
      api_version: 'v1',
      data: { id: String(payment.id) },
      live_mode: false,
      type: 'payment',
    });
    expect(hook?.body.id).to.be.a('number');
    expect(hook?.body.user_id).to.be.a('number');
    expect(hook?.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(signatureIsValid(hook!)).to.equal(true);
    expect(signatureIsValid(hook!, 'some-other-secret')).to.equal(false);
    expect(Math.abs(signatureTs(hook!) - Date.now() / 1000)).to.be.below(30);
    expect(() =>
      WebhookSignatureValidator.validate({
        xSignature: hook?.headers['x-signature'],
        xRequestId: hook?.headers['x-request-id'],
        dataId: hook?.url.searchParams.get('data.id') ?? undefined,
        secret: SECRET,
        toleranceSeconds: 300,
      }),
    ).not.to.throw();
  });

  it('when a payment changes status, is charged back or refunded at the provider, then payment.updated webhooks follow', async () => {
    const { payment } = await pay('order-updates', 'pending');
    await http(emulator, 'POST', `/__emulator/payments/${payment.id}/status`, { body: { status: 'approved' } });
    const refunded = await http(emulator, 'POST', `/__emulator/payments/${payment.id}/refunds`, { body: { amount: 5 } });
    const chargedBack = await http(emulator, 'POST', `/__emulator/payments/${payment.id}/status`, {
      body: { status: 'charged_back' },
    });
    const hooks = await receiver.waitFor(4);

    // Deliveries run concurrently, as MercadoPago's do, so only the multiset of actions is fixed.
    expect(hooks.map((h) => h.body.action).sort()).to.deep.equal([
      'payment.created',
      'payment.updated',
      'payment.updated',
      'payment.updated',
    ]);
    expect(refunded.body.refund).to.deep.include({
      amount: 5,
      source: { id: '1234567890', name: 'Emulator Collector', type: 'admin' },
    });
    expect(chargedBack.body).to.include({ status: 'charged_back', status_detail: 'settled' });
  });

  it('when the receiver fails, then delivery is retried with backoff until a 2xx, a bounded number of times', async () => {
    receiver.respondWith([500, 503]);
    await pay('order-retry');
    await emulator.idle();

    expect(receiver.received).to.have.length(3);
    const [record] = emulator.notifications();
    expect(record?.state).to.equal('delivered');
    expect(record?.attempts.map((a) => a.status)).to.deep.equal([500, 503, 200]);

    receiver.respondWith([500, 500, 500, 500]);
    await pay('order-give-up');
    await emulator.idle();
    expect(emulator.notifications()[1]?.state).to.equal('failed');
    expect(emulator.notifications()[1]?.attempts).to.have.length(3);
  });

  it('when a duplicate fault is set, then the same notification arrives twice, identical', async () => {
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'duplicate', copies: 2 } });
    await pay('order-dup');
    const [a, b] = await receiver.waitFor(2);

    expect(a?.body).to.deep.equal(b?.body);
    expect(a?.headers['x-request-id']).to.equal(b?.headers['x-request-id']);
    expect(signatureIsValid(b!)).to.equal(true);
    expect(emulator.notifications()[1]?.duplicateOf).to.equal(emulator.notifications()[0]?.seq);
  });

  it('when a drop fault is set, then that notification never arrives but the next one does', async () => {
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'drop' } });
    const dropped = await pay('order-drop');
    const kept = await pay('order-kept');
    await receiver.waitFor(1);
    await emulator.idle();

    expect(receiver.received.map((h) => h.url.searchParams.get('data.id'))).to.deep.equal([String(kept.payment.id)]);
    const log = await http(emulator, 'GET', '/__emulator/notifications');
    expect(log.body.notifications.map((n: any) => [n.dataId, n.state])).to.deep.equal([
      [String(dropped.payment.id), 'dropped'],
      [String(kept.payment.id), 'delivered'],
    ]);
  });

  it('when notifications are held and released in reverse, then the receiver sees them out of order', async () => {
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'hold' } });
    const { payment } = await pay('order-reorder', 'pending');
    await http(emulator, 'POST', `/__emulator/payments/${payment.id}/status`, { body: { status: 'approved' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.received).to.have.length(0);

    const released = await http(emulator, 'POST', '/__emulator/notifications/release', { body: { order: 'reverse' } });
    const hooks = await receiver.waitFor(2);

    expect(released.body.released).to.equal(2);
    expect(hooks.map((h) => h.body.action)).to.deep.equal(['payment.updated', 'payment.created']);
  });

  it('when a delay fault is set, then the notification arrives only after the delay', async () => {
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'delay', delayMs: 300 } });
    const started = Date.now();
    await pay('order-delay');
    await receiver.waitFor(1);

    expect(Date.now() - started).to.be.at.least(280);
  });

  it('when bad-signature and stale-timestamp faults are set, then a receiver following the docs can refuse both', async () => {
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'bad_signature' } });
    await pay('order-forged');
    await receiver.waitFor(1);
    await http(emulator, 'POST', '/__emulator/faults/notifications', { body: { type: 'stale_timestamp', ageSeconds: 3600 } });
    await pay('order-stale');
    const [forged, stale] = await receiver.waitFor(2);

    expect(signatureIsValid(forged!)).to.equal(false);
    expect(signatureIsValid(stale!)).to.equal(true);
    expect(Date.now() / 1000 - signatureTs(stale!)).to.be.at.least(3590);
    expect(() =>
      WebhookSignatureValidator.validate({
        xSignature: stale?.headers['x-signature'],
        xRequestId: stale?.headers['x-request-id'],
        dataId: stale?.url.searchParams.get('data.id') ?? undefined,
        secret: SECRET,
        toleranceSeconds: 300,
      }),
    ).to.throw(/TimestampOutOfTolerance/);
  });

  it('when an IPN is sent on demand, then it uses ?topic=&id= with a { resource, topic } body for payments and merchant orders', async () => {
    const { payment } = await pay('order-ipn');
    await receiver.waitFor(1);

    const sent = await http(emulator, 'POST', '/__emulator/notifications/send', {
      body: { kind: 'ipn', topic: 'payment', id: payment.id },
    });
    await http(emulator, 'POST', '/__emulator/notifications/send', {
      body: { kind: 'ipn', topic: 'merchant_order', id: payment.order.id },
    });
    const [, paymentIpn, orderIpn] = await receiver.waitFor(3);

    expect(sent.status).to.equal(202);
    expect(sent.body.notifications[0].state).to.equal('delivered');
    expect(paymentIpn?.url.searchParams.get('topic')).to.equal('payment');
    expect(paymentIpn?.url.searchParams.get('id')).to.equal(String(payment.id));
    expect(paymentIpn?.body).to.deep.equal({ resource: String(payment.id), topic: 'payment' });
    expect(orderIpn?.url.searchParams.get('topic')).to.equal('merchant_order');
    expect(orderIpn?.body).to.deep.equal({
      resource: `${emulator.url}/merchant_orders/${payment.order.id}`,
      topic: 'merchant_order',
    });
  });

  it('when a webhook is sent on demand with a missing signature, then no x-signature header is present', async () => {
    const { payment } = await pay('order-unsigned');
    await receiver.waitFor(1);

    await http(emulator, 'POST', '/__emulator/notifications/send', {
      body: { id: payment.id, signature: 'missing', action: 'payment.updated' },
    });
    const [, unsigned] = await receiver.waitFor(2);

    expect(unsigned?.headers['x-signature']).to.equal(undefined);
    expect(unsigned?.body.action).to.equal('payment.updated');
  });

  it('when delivery is switched off, then notifications are recorded as suppressed and nothing is sent', async () => {
    await http(emulator, 'POST', '/__emulator/config', { body: { deliverNotifications: false } });
    try {
      await pay('order-quiet');
      await emulator.idle();
      expect(receiver.received).to.have.length(0);
      expect(emulator.notifications()[0]?.state).to.equal('suppressed');
    } finally {
      await http(emulator, 'POST', '/__emulator/config', { body: { deliverNotifications: true } });
    }
  });
});
