import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOrderActivities, OrderDataFailure } from '../../activities/orders';
import { createDb, type Db } from '../../db/knex';
import { insertBusiness } from '../../db/repositories/businesses';
import { insertProduct } from '../../db/repositories/products';
import { insertUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import type { OrderView } from '../../workflows/orders/contracts';
import { testDatabaseUrl } from '../support/env';

/** The order activities against the real database, run in an activity context. */
describe('order activities', () => {
  let db: Db;
  let activities: ReturnType<typeof createOrderActivities>;
  const env = new MockActivityEnvironment();

  before(() => {
    db = createDb({ url: testDatabaseUrl(), poolMax: 2 });
    activities = createOrderActivities({
      db,
      logger: createLogger({ level: 'silent', name: 'test' }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
  });
  after(() => db?.destroy());

  async function order(notes: string | null): Promise<OrderView> {
    const customer = await insertUser(db, { email: `a-${randomUUID()}@example.test`, name: 'A', passwordHash: 'x' });
    const business = await insertBusiness(db, { name: 'Activities', currency: 'ARS', timeZone: 'UTC' });
    const product = await insertProduct(db, business.id, { name: 'Café', priceMinor: 500 });
    return {
      orderId: randomUUID(),
      businessId: business.id,
      customerId: customer.id,
      status: 'pending_payment',
      currency: 'ARS',
      items: [{ productId: product.id, name: 'Café', unitPriceMinor: 500, quantity: 1, lineTotalMinor: 500 }],
      totalMinor: 500,
      notes,
      pickupName: null,
      placedAt: new Date().toISOString(),
      payment: {
        provider: 'mercadopago',
        amountMinor: 500,
        currency: 'ARS',
        deadline: new Date().toISOString(),
        preferenceId: null,
        checkoutUrl: null,
      },
      paymentId: null,
      refundId: null,
      cancelReason: null,
      seq: 1,
    };
  }

  const placed = (view: OrderView) => ({
    order: view,
    idempotencyKey: randomUUID(),
    requestHash: 'h',
    workflowId: `order:${view.businessId}:${view.orderId}`,
    paymentDeadline: view.payment.deadline,
    event: {
      orderId: view.orderId,
      businessId: view.businessId,
      seq: 1,
      type: 'placed',
      fromStatus: null,
      toStatus: 'pending_payment' as const,
      data: {},
      occurredAt: view.placedAt,
    },
  });

  it('when recordOrderPlaced runs twice, then the order, its lines and its first event exist once', async () => {
    const view = await order('no sugar');
    const input = placed(view);
    await env.run(activities.recordOrderPlaced, input);
    await env.run(activities.recordOrderPlaced, input);
    expect(await db('orders').where({ id: view.orderId })).to.have.length(1);
    expect(await db('orderItems').where({ orderId: view.orderId })).to.have.length(1);
    expect(await db('orderEvents').where({ orderId: view.orderId })).to.have.length(1);
  });

  it('when Postgres refuses the data itself, then the failure is non-retryable with a type, not retried forever', async () => {
    const view = await order('bad \u0000 byte');
    const failure = await env.run(activities.recordOrderPlaced, placed(view)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).to.equal(OrderDataFailure);
    expect((failure as ApplicationFailure).nonRetryable).to.equal(true);
    expect(await db('orders').where({ id: view.orderId })).to.have.length(0);
  });
});
