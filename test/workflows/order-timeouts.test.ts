import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { createDb, type Db } from '../../db/knex';
import { insertBusiness } from '../../db/repositories/businesses';
import { insertProduct } from '../../db/repositories/products';
import { insertUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { startMercadoPagoEmulator, type MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { createActivities, createWorker } from '../../workers/worker';
import { orderWorkflowId, paymentUpdateSignal, statusQuery, type OrderInput } from '../../workflows/orders/contracts';
import { testDatabaseUrl } from '../support/env';
import { runWorker, timeSkippingServer, uniqueTaskQueue, workflowBundle, type RunningWorker } from '../support/temporal';

/**
 * The payment deadline (15 min) and the accept deadline (10 min) on the time-skipping test
 * server: real activities against Postgres and the emulator, no real waiting.
 */
describe('order workflow timeouts (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: MercadoPagoEmulator;
  let worker: RunningWorker;
  let taskQueue: string;

  before(async () => {
    env = await timeSkippingServer();
    db = createDb({ url: testDatabaseUrl(), poolMax: 3 });
    emulator = await startMercadoPagoEmulator({ port: 0, deliverNotifications: false });
    taskQueue = uniqueTaskQueue('timeouts');
    const logger = createLogger({ level: 'silent', name: 'test' });
    const mercadopago = createMercadoPagoClient({
      accessToken: emulator.accessTokens[0] as string,
      apiUrl: emulator.url,
      timeoutMs: 5000,
    });
    const activities = createActivities({
      db,
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      mercadopago,
      temporal: env.client,
      publicBaseUrl: 'http://127.0.0.1:9',
    });
    worker = await runWorker(
      await createWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue,
        activities,
        workflowBundle: await workflowBundle(),
      }),
      taskQueue,
    );
  });
  after(async () => {
    await worker?.stop();
    await emulator?.stop();
    await db?.destroy();
    await env?.teardown();
  });

  async function orderInput(): Promise<OrderInput> {
    const customer = await insertUser(db, { email: `c-${randomUUID()}@example.test`, name: 'C', passwordHash: 'x' });
    const business = await insertBusiness(db, { name: 'Timeouts', currency: 'ARS', timeZone: 'UTC' });
    const product = await insertProduct(db, business.id, { name: 'Medialuna', priceMinor: 900 });
    return {
      orderId: randomUUID(),
      businessId: business.id,
      customerId: customer.id,
      idempotencyKey: randomUUID(),
      requestHash: 'hash',
      currency: 'ARS',
      items: [{ productId: product.id, name: product.name, unitPriceMinor: 900, quantity: 1, lineTotalMinor: 900 }],
      totalMinor: 900,
      notes: null,
      pickupName: null,
      paymentTimeoutSeconds: 15 * 60,
      acceptTimeoutSeconds: 10 * 60,
    };
  }

  const start = async (input: OrderInput) =>
    env.client.workflow.start('processOrder', {
      taskQueue,
      workflowId: orderWorkflowId(input.businessId, input.orderId),
      args: [input],
    });

  const statuses = async (orderId: string) =>
    (await db('orderEvents').where({ orderId }).orderBy('seq')).map(
      (event: { toStatus: string; type: string }) => `${event.type}:${event.toStatus}`,
    );

  it('when no payment arrives by the deadline, then the provider is asked and the order expires', async () => {
    const input = await orderInput();
    const handle = await start(input);
    const result = await handle.result();
    expect(result.status).to.equal('expired');
    expect(await statuses(input.orderId)).to.deep.equal(['placed:pending_payment', 'expired:expired']);
    const searched = emulator.requests().filter((request) => request.path.startsWith('/v1/payments/search'));
    expect(searched.some((request) => JSON.stringify(request.query).includes(input.orderId))).to.equal(true);
  });

  it('when a paid order is not accepted in time, then it is cancelled and refunded', async () => {
    const input = await orderInput();
    const handle = await start(input);
    await env.sleep('1 second');
    const order = await db('orders').where({ id: input.orderId }).first();
    const payment = await fetch(`${emulator.url}/__emulator/preferences/${order.preferenceId}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'approved' }),
    }).then((res) => res.json() as Promise<{ id: number | string }>);
    await handle.signal(paymentUpdateSignal, {
      paymentId: String(payment.id),
      status: 'approved',
      amountMinor: 900,
      currency: 'ARS',
    });
    expect(await handle.query(statusQuery)).to.be.oneOf(['pending_payment', 'paid']);
    const result = await handle.result();
    expect(result.status).to.equal('refunded');
    expect(result.cancelReason).to.equal('not_accepted_in_time');
    expect(await statuses(input.orderId)).to.deep.equal([
      'placed:pending_payment',
      'payment_approved:paid',
      'cancelled:cancelled',
      'refunded:refunded',
    ]);
    const refunds = emulator
      .requests()
      .filter((request) => request.method === 'POST' && request.path.includes(`/v1/payments/${payment.id}/refunds`));
    expect(new Set(refunds.map((request) => request.idempotencyKey))).to.deep.equal(
      new Set([`refund:${input.orderId}:${payment.id}`]),
    );
  });
});
