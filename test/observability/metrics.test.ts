import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createDb, withDatabase, type Db } from '../../db/knex';
import { registerDbMetrics } from '../../lib/db-metrics';
import { startMetricsServer } from '../../lib/metrics-server';
import { testDatabaseUrl } from '../support/env';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { eventually, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';
import { registerUser } from '../support/fixtures';
import { startStack, type TestStack } from '../support/stack';
import { parseMetrics, scrape, UUID, valueOf, type Sample } from './support';

const ORDERS_ROUTE = '/v1/businesses/:businessId/orders';

/** Order counts per status straight from Postgres, to compare the gauges with. */
async function countsInDb(db: Db): Promise<Record<string, number>> {
  const rows = (await db('orders').select('status').count({ count: '*' }).groupBy('status')) as unknown as {
    status: string;
    count: number;
  }[];
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

const gaugeCounts = (samples: Sample[]) =>
  Object.fromEntries(samples.filter((s) => s.name === 'orders_by_status' && s.value > 0).map((s) => [s.labels.status, s.value]));

const sameCounts = (a: Record<string, number>, b: Record<string, number>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

describe('observability: metrics', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let api: HttpClient;
  let metricsUrl: string;
  let closeMetrics: () => Promise<void>;

  before(async function () {
    stack = await startStack({ name: 'metrics', env: { TRUST_PROXY: 'true' } });
    // As api/main.ts does; no cache, so each scrape reads what the test just wrote.
    registerDbMetrics({ registry: stack.metrics.registry, db: stack.db, logger: stack.logger, cacheMs: 0 });
    const server = await startMetricsServer(stack.metrics.registry, 0, '127.0.0.1');
    metricsUrl = `http://127.0.0.1:${server.port}/metrics`;
    closeMetrics = server.close;
    api = httpClient(stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  });

  after(async function () {
    await closeMetrics?.();
    await stack?.stop();
  });

  it('when an order is placed and read, then requests are counted by route template, with a latency histogram', async function () {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const order = await placeOrder(api, customer, cafe);
    expect((await api.get(`/v1/orders/${order.id}`, { token: customer.token })).status).to.equal(200);

    const samples = await scrape(metricsUrl);

    expect(valueOf(samples, 'http_requests_total', { method: 'POST', route: ORDERS_ROUTE, status: '201' })).to.be.at.least(1);
    expect(
      valueOf(samples, 'http_requests_total', { method: 'GET', route: '/v1/orders/:orderId', status: '200' }),
    ).to.be.at.least(1);
    const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === ORDERS_ROUTE);
    expect(buckets.map((s) => s.labels.le)).to.include('+Inf');
    expect(valueOf(samples, 'http_request_duration_seconds_count', { method: 'POST', route: ORDERS_ROUTE })).to.be.at.least(1);
    expect(samples.some((s) => s.name === 'http_requests_in_flight')).to.equal(true);
    const routes = new Set(samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route));
    expect([...routes].filter((route) => route?.includes(order.id) || route?.includes(cafe.id))).to.deep.equal([]);
  });

  it('when /metrics is asked on the public API port, then it is not there', async function () {
    const response = await api.get('/metrics');

    expect(response.status).to.equal(404);
  });

  it('when an order is placed and paid, then the business counters move', async function () {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const before = await scrape(metricsUrl);

    const order = await placeOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId, 'approved');
    await orderWithStatus(api, customer, order.id, 'paid');

    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    const after = await eventually(
      () => scrape(metricsUrl),
      (samples) => delta(samples, 'payments_total', { result: 'approved' }) >= 1,
    );
    expect(delta(after, 'orders_placed_total', { currency: 'ARS' })).to.equal(1);
    expect(delta(after, 'order_value_minor_units_total', { currency: 'ARS' })).to.equal(order.totalMinor);
    expect(delta(after, 'order_transitions_total', { to: 'paid' })).to.equal(1);
    expect(delta(after, 'payment_confirmation_seconds_count')).to.equal(1);
    expect(delta(after, 'webhook_notifications_total', { provider: 'mercadopago', result: 'valid' })).to.be.at.least(1);
    expect(delta(after, 'activity_executions_total', { result: 'success' })).to.be.at.least(2);
  });

  it('when orders wait in a status, then orders_by_status and the oldest age agree with Postgres', async function () {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const order = await placeOrder(api, customer, cafe);
    // As if it had been waiting for payment for two hours.
    await stack
      .db('orders')
      .where({ id: order.id })
      .update({ updatedAt: new Date(Date.now() - 2 * 3600_000) });

    // Other orders may change status meanwhile: compare with counts read just before and after.
    const { samples } = await eventually(
      async () => {
        const first = await countsInDb(stack.db);
        const samples = await scrape(metricsUrl);
        const last = await countsInDb(stack.db);
        return { first, samples, last };
      },
      ({ first, samples, last }) => sameCounts(first, last) && sameCounts(gaugeCounts(samples), first),
    );
    expect(valueOf(samples, 'orders_by_status', { status: 'pending_payment' })).to.be.at.least(1);
    expect(samples.filter((s) => s.name === 'orders_by_status')).to.have.length(8);
    expect(valueOf(samples, 'orders_oldest_pending_age_seconds', { status: 'pending_payment' })).to.be.at.least(7200);
    const ageStatuses = samples.filter((s) => s.name === 'orders_oldest_pending_age_seconds').map((s) => s.labels.status);
    expect(ageStatuses.sort()).to.deep.equal(['paid', 'pending_payment', 'preparing', 'ready']);
  });

  it('when every label of the exposition is read, then none carries an id', async function () {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const order = await placeOrder(api, customer, cafe);
    await api.get(`/v1/orders/${order.id}`, { token: customer.token });
    await api.get(`/v1/orders/00000000-0000-4000-8000-000000000000`, { token: customer.token });

    const samples = await scrape(metricsUrl);

    const values = samples.flatMap((s) => Object.values(s.labels));
    expect(values.filter((value) => UUID.test(value) || /^order:/.test(value))).to.deep.equal([]);
    for (const id of [cafe.id, order.id, customer.id]) expect(values.join(' ')).not.to.include(id);
  });
});

describe('observability: database gauges', function () {
  this.timeout(60_000);
  const dbs: Db[] = [];
  const newDb = (options: { poolMax: number; url?: string }) => {
    const db = createDb({ url: options.url ?? testDatabaseUrl(), poolMax: options.poolMax });
    dbs.push(db);
    return db;
  };
  const silent = { warn: () => undefined } as never;

  after(async function () {
    await Promise.all(dbs.map((db) => db.destroy()));
  });

  it('when connections are taken and a query waits for one, then db_pool_connections reports used, free and pending', async function () {
    const db = newDb({ poolMax: 2 });
    const registry = new Registry();
    registerDbMetrics({ registry, db, logger: silent });
    // Only this gauge: the order gauges would themselves wait for a connection of the full pool.
    const pool = async () => (await registry.getSingleMetric('db_pool_connections')!.get()).values;
    const state = (values: { labels: Record<string, unknown>; value: number }[]) =>
      Object.fromEntries(values.map((v) => [v.labels.state, v.value]));

    const first = await db.transaction();
    const second = await db.transaction();
    try {
      const waiting = db.raw('select 1').then(() => 'done');
      const busy = await eventually(pool, (values) => state(values).pending === 1);
      expect(state(busy)).to.deep.equal({ used: 2, free: 0, pending: 1 });

      await first.commit();
      expect(await waiting).to.equal('done');
    } finally {
      if (!first.isCompleted()) await first.rollback();
      await second.commit();
    }
    const idle = await eventually(pool, (values) => state(values).used === 0);
    expect(state(idle)).to.deep.equal({ used: 0, free: 2, pending: 0 });
  });

  it('when Prometheus scrapes repeatedly within the cache time, then the orders table is read once', async function () {
    const db = newDb({ poolMax: 2 });
    const registry = new Registry();
    registerDbMetrics({ registry, db, logger: silent, cacheMs: 60_000 });
    let orderQueries = 0;
    db.on('query', (query: { sql: string }) => {
      if (/from "orders"/.test(query.sql)) orderQueries += 1;
    });

    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    await registry.metrics();
    const last = parseMetrics(await registry.metrics());

    expect(orderQueries).to.equal(1);
    expect(last.filter((s) => s.name === 'orders_by_status')).to.have.length(8);
  });

  it('when Postgres cannot answer, then the scrape still succeeds, without the order gauges', async function () {
    const db = newDb({ poolMax: 1, url: withDatabase(testDatabaseUrl(), 'cafe_flow_does_not_exist') });
    const registry = new Registry();
    const warnings: unknown[] = [];
    registerDbMetrics({ registry, db, logger: { warn: (fields: unknown) => warnings.push(fields) } as never });

    const samples = parseMetrics(await registry.metrics());

    expect(samples.filter((s) => s.name.startsWith('orders_'))).to.deep.equal([]);
    expect(samples.filter((s) => s.name === 'db_pool_connections')).to.have.length(3);
    expect(warnings).to.have.length.greaterThan(0);
  });
});
