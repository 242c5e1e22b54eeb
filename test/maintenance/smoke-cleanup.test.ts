import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { expect } from 'chai';
import { createSmokeActivities } from '../../activities/maintenance/smoke-activities';
import { createDb, type Db } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { smokeCafeName, smokeEmail, type Probe } from '../../workflows/maintenance/smoke-contracts';
import { testDatabaseUrl } from '../support/env';

// The cleanup deletes rows in the production database: what it may and may not touch.
describe('smoke data cleanup', () => {
  let db: Db;
  before(() => {
    db = createDb({ url: testDatabaseUrl(), poolMax: 2 });
  });
  after(() => db.destroy());

  /** An account owning one café, with one order of the given status. */
  async function ownerWithCafe(email: string, cafeName: string, options: { createdAt?: Date; orderStatus: string }) {
    const [user] = await db('users')
      .insert({ email, name: 'Owner', passwordHash: 'x', createdAt: options.createdAt ?? new Date() })
      .returning('id');
    const [cafe] = await db('businesses').insert({ name: cafeName, currency: 'ARS', timeZone: 'UTC' }).returning('id');
    await db('memberships').insert({ businessId: cafe.id, userId: user.id, role: 'owner' });
    const [product] = await db('products').insert({ businessId: cafe.id, name: 'Espresso', priceMinor: 100 }).returning('id');
    const orderId = randomUUID();
    await db('orders').insert({
      id: orderId,
      businessId: cafe.id,
      customerId: user.id,
      idempotencyKey: randomUUID(),
      requestHash: 'hash',
      workflowId: `order:${cafe.id}:${orderId}`,
      status: options.orderStatus,
      currency: 'ARS',
      totalMinor: 100,
      paymentDeadline: new Date(),
    });
    await db('orderItems').insert({
      orderId,
      line: 1,
      productId: product.id,
      name: 'Espresso',
      unitPriceMinor: 100,
      quantity: 1,
      lineTotalMinor: 100,
    });
    return { userId: user.id as string, cafeId: cafe.id as string, orderId };
  }

  const exists = async (table: string, id: string) => (await db(table).where({ id }).first()) !== undefined;

  it("when a run cleans up, then its own and stale smoke data go, but not another run's, a customer's, or a café whose order is unsettled", async function () {
    const tag = () => randomUUID().replace(/-/g, '').slice(0, 12);
    const run = tag();
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    const own = await ownerWithCafe(smokeEmail(run), smokeCafeName(run), { orderStatus: 'refunded' });
    const stale = await ownerWithCafe(smokeEmail(tag()), smokeCafeName('old'), {
      createdAt: twoDaysAgo,
      orderStatus: 'cancelled',
    });
    const running = await ownerWithCafe(smokeEmail(tag()), smokeCafeName('other'), { orderStatus: 'pending_payment' });
    const unsettled = await ownerWithCafe(smokeEmail(tag()), smokeCafeName('stuck'), {
      createdAt: twoDaysAgo,
      orderStatus: 'paid',
    });
    const customer = await ownerWithCafe(`owner-${tag()}@example.test`, smokeCafeName('impostor'), {
      createdAt: twoDaysAgo,
      orderStatus: 'completed',
    });

    const activities = createSmokeActivities({
      db,
      logger: createLogger({ level: 'silent', name: 'test-smoke' }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const probe = (await new MockActivityEnvironment().run(() => activities.deleteSmokeData({ runTag: run }))) as Probe;

    expect(probe.status, "an older run's stuck café is not this run's failure").to.equal('passed');
    expect(probe.detail).to.equal(
      `removed 2 account(s) and 2 café(s); left 1 older café(s) with unsettled orders: ${unsettled.orderId} (paid)`,
    );
    for (const gone of [own, stale]) {
      expect(await exists('users', gone.userId)).to.equal(false);
      expect(await exists('businesses', gone.cafeId)).to.equal(false);
      expect(await exists('orders', gone.orderId)).to.equal(false);
    }
    for (const kept of [running, unsettled, customer]) {
      expect(await exists('users', kept.userId)).to.equal(true);
      expect(await exists('businesses', kept.cafeId)).to.equal(true);
    }
    await remove([running, unsettled, customer]);
  });

  it("when this run's own café still has an unsettled order, then the cleanup fails naming it and keeps it", async function () {
    const run = randomUUID().replace(/-/g, '').slice(0, 12);
    const own = await ownerWithCafe(smokeEmail(run), smokeCafeName(run), { orderStatus: 'paid' });
    const activities = createSmokeActivities({
      db,
      logger: createLogger({ level: 'silent', name: 'test-smoke' }),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const probe = (await new MockActivityEnvironment().run(() => activities.deleteSmokeData({ runTag: run }))) as Probe;

    expect(probe.status).to.equal('failed');
    expect(probe.error).to.match(/kept \d+ café\(s\) whose orders are not settled: /);
    expect(probe.error).to.contain(`${own.orderId} (paid)`);
    expect(await exists('businesses', own.cafeId)).to.equal(true);
    await remove([own]);
  });

  /** What a test made and the cleanup rightly kept goes, so later suites see a clean slate. */
  async function remove(rows: { userId: string; cafeId: string }[]) {
    await db('orders')
      .whereIn(
        'businessId',
        rows.map((row) => row.cafeId),
      )
      .delete();
    await db('businesses')
      .whereIn(
        'id',
        rows.map((row) => row.cafeId),
      )
      .delete();
    await db('users')
      .whereIn(
        'id',
        rows.map((row) => row.userId),
      )
      .delete();
  }
});
