import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { engineCost } from '../../bench/engine-cost';
import { claimPendingNotifications } from '../../db/repositories/webhooks';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { freePort } from '../../scripts/stack/embedded-postgres';
import { startApiProcess } from '../chaos/support/worker-process';
import { httpClient } from '../support/http';
import { eventually, orderWithStatus, pay, placeOrder } from '../support/orders';
import {
  executionsSince,
  getOrder,
  injectApiFault,
  injectNotificationFault,
  notificationRow,
  notificationRowsFor,
  notificationsProcessed,
  paymentGets,
  postWebhook,
  setPaymentStatus,
} from '../support/payments';
import { useOrderStack } from '../support/use-stack';

/**
 * The webhook's answer costs one insert; the relay (in the worker process, here beside the
 * in-process worker) hands stored notifications to their orders from Postgres.
 */
describe('webhook relay: stored, acknowledged, then handed over', () => {
  const the = useOrderStack({
    name: 'webhook-relay',
    env: { RATE_LIMIT_PER_MINUTE: '100000', WEBHOOK_UNSIGNED_PER_MINUTE: '40' },
  });

  /** A paid order whose own notifications were dropped: only what the test sends reaches us. */
  async function unnotifiedPayment() {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    await injectNotificationFault(the.stack, { type: 'drop' });
    const payment = await pay(the.stack, order.payment.preferenceId);
    return { order, paymentId: String(payment.id) };
  }

  it('when Temporal cannot be reached at all, then a signed webhook is still stored and answered 200', async () => {
    const { order, paymentId } = await unnotifiedPayment();
    // The same app, with a Temporal client pointed at a port nothing listens on.
    const deadConnection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const { app, close } = createApp({
      config: the.stack.config,
      db: the.stack.db,
      logger: the.stack.logger,
      metrics: the.stack.metrics,
      temporal: new Client({ connection: deadConnection }),
      readiness: {},
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const isolated = httpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const { response, notificationId } = await postWebhook(the.stack, isolated, { dataId: paymentId });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ status: 'accepted' });
      expect(await notificationRow(the.stack, notificationId)).to.include({
        topic: 'payment',
        resourceId: paymentId,
        signed: true,
      });
      // The relay, which does reach Temporal, hands it over.
      await orderWithStatus(the.api, the.customer, order.id, 'paid');
    } finally {
      await close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await deadConnection.close().catch(() => undefined);
    }
  });

  it('when the relay is down while notifications arrive, then they wait in Postgres and are handed over once it is back', async () => {
    await the.stack.relay.stop();
    let paymentId = '';
    let notificationId = '';
    try {
      const unnotified = await unnotifiedPayment();
      paymentId = unnotified.paymentId;
      const posted = await postWebhook(the.stack, the.api, { dataId: paymentId });
      notificationId = posted.notificationId;
      expect(posted.response.status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await notificationRow(the.stack, notificationId)).processedAt).to.equal(null);
      expect((await getOrder(the.api, the.customer, unnotified.order.id)).status).to.equal('pending_payment');
    } finally {
      await the.stack.restartRelay();
    }
    await notificationsProcessed(the.stack, [paymentId]);
    expect((await notificationRow(the.stack, notificationId)).outcome).to.equal(`${paymentId}:signalled`);
  });

  it('when a relay dies holding a claim, then another takes the rows over once the lease passes', async () => {
    await the.stack.relay.stop();
    const { order, paymentId } = await unnotifiedPayment();
    const { notificationId } = await postWebhook(the.stack, the.api, { dataId: paymentId });
    // What a relay killed -9 mid-round leaves behind: rows claimed by nobody alive.
    const claimed = await claimPendingNotifications(the.stack.db, { limit: 100, leaseSeconds: 2 });
    expect(claimed.map((row) => row.id)).to.include(notificationId);
    await the.stack.restartRelay();
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    const row = await notificationRow(the.stack, notificationId);
    expect(row.outcome).to.equal(`${paymentId}:signalled`);
    expect(row.attempts).to.equal(2);
  });

  it('when the provider fails the fetch, then the rows are retried with backoff until the order is paid', async () => {
    const { order, paymentId } = await unnotifiedPayment();
    await injectApiFault(the.stack, { status: 500, times: 1, method: 'GET', pathPattern: `^/v1/payments/${paymentId}/?$` });
    const { notificationId } = await postWebhook(the.stack, the.api, { dataId: paymentId });
    await orderWithStatus(the.api, the.customer, order.id, 'paid', 30_000);
    const row = await notificationRow(the.stack, notificationId);
    expect(row.attempts).to.equal(2);
    expect(row.lastError).to.equal(null);
    expect(paymentGets(the.stack, paymentId).map((call) => call.status)).to.deep.equal([500, 200]);
  });

  it('when twenty webhooks about one payment arrive together, then the provider is asked once and no workflow is started for them', async () => {
    const since = new Date(Date.now() - 1000);
    await the.stack.relay.stop();
    const { order, paymentId } = await unnotifiedPayment();
    const answers = await Promise.all(Array.from({ length: 20 }, () => postWebhook(the.stack, the.api, { dataId: paymentId })));
    expect(answers.map((answer) => answer.response.status)).to.deep.equal(answers.map(() => 200));
    await the.stack.restartRelay();
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await notificationsProcessed(the.stack, [paymentId]);
    expect(await notificationRowsFor(the.stack, paymentId)).to.have.length(20);
    expect(paymentGets(the.stack, paymentId)).to.have.length(1);
    expect(await executionsSince(the.stack, since)).to.deep.equal(['processOrder']);
  });

  it('when a payment is notified again later with nothing new, then it is fetched but the order is not signalled; a new status still is', async () => {
    const { order, paymentId } = await unnotifiedPayment();
    const first = await postWebhook(the.stack, the.api, { dataId: paymentId });
    await orderWithStatus(the.api, the.customer, order.id, 'paid');
    await notificationsProcessed(the.stack, [paymentId]);
    const handle = the.stack.client.workflow.getHandle(orderWorkflowId(the.cafe.id, order.id));
    const signalsBefore = engineCost(await handle.fetchHistory()).signals;

    const late = await postWebhook(the.stack, the.api, { dataId: paymentId });
    await notificationsProcessed(the.stack, [paymentId]);

    expect((await notificationRow(the.stack, first.notificationId)).outcome).to.equal(`${paymentId}:signalled`);
    expect((await notificationRow(the.stack, late.notificationId)).outcome).to.equal(`${paymentId}:unchanged`);
    expect(paymentGets(the.stack, paymentId)).to.have.length(2);
    expect(engineCost(await handle.fetchHistory()).signals, 'no signal, so no workflow task').to.equal(signalsBefore);

    // A chargeback is news: it reaches the order (the emulator's own notice of it is dropped, so
    // the one sent here is what carries it).
    await injectNotificationFault(the.stack, { type: 'drop' });
    await setPaymentStatus(the.stack, paymentId, 'charged_back');
    const chargeback = await postWebhook(the.stack, the.api, { dataId: paymentId });
    await notificationsProcessed(the.stack, [paymentId]);
    expect((await notificationRow(the.stack, chargeback.notificationId)).outcome).to.equal(`${paymentId}:signalled`);
    expect(engineCost(await handle.fetchHistory()).signals).to.equal(signalsBefore + 1);
  });

  describe('unsigned IPN hints', () => {
    const hint = (query: Record<string, string>, headers: Record<string, string> = {}) =>
      the.api.post(
        `/v1/webhooks/mercadopago?${new URLSearchParams(query)}`,
        { resource: query.id, topic: query.topic },
        { headers },
      );

    it('when a flood of hints names one payment, then they are one stored row and one provider fetch', async () => {
      const { order, paymentId } = await unnotifiedPayment();
      const answers = await Promise.all(
        Array.from({ length: 15 }, (_, i) => hint({ topic: 'payment', id: paymentId }, { 'x-request-id': `flood-${i}` })),
      );
      expect(answers.map((answer) => answer.status)).to.deep.equal(answers.map(() => 200));
      await orderWithStatus(the.api, the.customer, order.id, 'paid');
      await notificationsProcessed(the.stack, [paymentId]);
      const rows = await notificationRowsFor(the.stack, paymentId);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ signed: false, kind: 'ipn', deliveries: 15 });
      expect(rows[0].body).to.equal(null);
      expect(paymentGets(the.stack, paymentId)).to.have.length(1);
    });

    it('when a hint names an id that is not a MercadoPago id, then it is refused with 400 and nothing is stored', async () => {
      for (const id of ['abc', '12 3', '1'.repeat(30), '../payments']) {
        const response = await hint({ topic: 'payment', id });
        expect(response.status, id).to.equal(400);
        expect(response.body.error.code).to.equal('INVALID_NOTIFICATION');
      }
      expect(
        await the.stack.db('webhookNotifications').where({ signed: false }).whereIn('resourceId', ['abc', '../payments']),
      ).to.have.length(0);
    });

    it("when a hint's topic names an Object property (constructor, __proto__), then it is ignored and nothing is stored", async () => {
      for (const topic of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const response = await hint({ topic, id: '4242' });
        expect(response.status, topic).to.equal(200);
        expect(response.body).to.deep.equal({ status: 'ignored' });
      }
      expect(await notificationRowsFor(the.stack, '4242', 'constructor')).to.have.length(0);
    });

    it('when one address sends more hints than the limit, then the rest get 429 with Retry-After, while signed webhooks still pass', async () => {
      const answers = [];
      for (let i = 0; i < 45; i++) answers.push(await hint({ topic: 'payment', id: String(900_000 + i) }));
      const limited = answers.filter((answer) => answer.status === 429);
      expect(limited.length).to.be.greaterThan(0);
      expect(limited[0]!.body.error.code).to.equal('RATE_LIMITED');
      expect(Number(limited[0]!.headers.get('retry-after'))).to.be.within(1, 60);
      const stored = await the.stack.db('webhookNotifications').where({ signed: false }).whereLike('resourceId', '9000%');
      expect(stored.length).to.be.at.most(40);
      const { paymentId } = await unnotifiedPayment();
      expect((await postWebhook(the.stack, the.api, { dataId: paymentId })).response.status).to.equal(200);
    });
  });

  it('when the API process is killed -9 right after acknowledging, then the notification is still handed over', async function () {
    this.timeout(180_000);
    const { order, paymentId } = await unnotifiedPayment();
    const port = await freePort();
    const apiProcess = await startApiProcess({
      port,
      databaseUrl: the.stack.config.database.url as string,
      temporalAddress: the.stack.env.address,
      taskQueue: the.stack.taskQueue,
      mercadopagoAccessToken: the.stack.config.mercadopago.accessToken as string,
      mercadopagoApiUrl: the.stack.emulator.url,
      mercadopagoWebhookSecret: the.stack.emulator.webhookSecret,
      publicBaseUrl: `http://127.0.0.1:${port}`,
    });
    try {
      const { response, notificationId } = await postWebhook(the.stack, httpClient(`http://127.0.0.1:${port}`), {
        dataId: paymentId,
      });
      expect(response.status).to.equal(200);
      await apiProcess.kill();
      expect(apiProcess.alive()).to.equal(false);
      await orderWithStatus(the.api, the.customer, order.id, 'paid');
      const row = await eventually(
        () => notificationRow(the.stack, notificationId),
        (r) => r?.processedAt !== null,
      );
      expect(row.outcome).to.equal(`${paymentId}:signalled`);
    } finally {
      await apiProcess.kill();
    }
  });
});
