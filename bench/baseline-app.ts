import http from 'node:http';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'koa-helmet';
import { createAuthService } from '../api/auth/auth-service';
import { BusinessIdParams } from '../api/businesses/schemas';
import type { AppState } from '../api/http/context';
import { errorHandler } from '../api/http/error-handler';
import { requestContext } from '../api/http/request-context';
import { ApiRoutes, bearerAuthenticator } from '../api/http/routes';
import { fromRow, orderIdFor, requestHash } from '../api/orders/order-mapping';
import { priceOrder } from '../api/orders/pricing';
import { IdempotencyHeaders, OrderSchema, PlaceOrderSchema, type PlaceOrderBody } from '../api/orders/schemas';
import { createDb, type Db } from '../db/knex';
import * as orders from '../db/repositories/orders';
import { loadConfig, type Config } from '../lib/config';
import { AppError } from '../lib/errors';
import { createLogger, type Logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import { onShutdown } from '../lib/shutdown';

/**
 * The bench's yardstick, not part of the product: order placement with the product's own HTTP
 * front (request context, error handler, helmet, body parser, routes with the same schemas and
 * bearer auth) and the same rows written by the same repository, but no Temporal and no payment
 * provider. Placement's latency divided by this one is the price of durability.
 */
export interface BaselineDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  auth: Config['auth'];
  paymentTimeoutSeconds: number;
}

async function placeDirectly(deps: BaselineDeps, customerId: string, businessId: string, key: string, body: PlaceOrderBody) {
  const { db } = deps;
  const orderId = orderIdFor(businessId, customerId, key);
  const hash = requestHash(body);
  const known = await orders.findOrder(db, orderId);
  if (known) {
    if (known.requestHash !== hash) throw new AppError(409, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used before');
    return { status: 200, body: fromRow(known, await orders.findOrderItems(db, orderId)) };
  }
  const priced = await priceOrder(db, businessId, body);
  const { business, totalMinor } = priced;
  // Numbered as recordOrderPlaced numbers them.
  const items = priced.items.map((item, index) => ({ ...item, line: index + 1 }));
  const now = new Date();
  const row: orders.NewOrder = {
    id: orderId,
    businessId,
    customerId,
    idempotencyKey: key,
    requestHash: hash,
    workflowId: `baseline:${orderId}`,
    status: 'pending_payment',
    currency: business.currency,
    totalMinor,
    notes: body.notes ?? null,
    pickupName: body.pickupName ?? null,
    paymentDeadline: new Date(now.getTime() + (business.paymentTimeoutSeconds ?? deps.paymentTimeoutSeconds) * 1000),
    lastEventSeq: 1,
    createdAt: now,
  };
  const event = { seq: 1, type: 'placed', fromStatus: null, toStatus: 'pending_payment', data: {}, occurredAt: now };
  // The same statement the order workflow's first activity runs: order, lines, event, NOTIFY.
  const created = await orders.insertOrderIfAbsent(db, row, items, event, {
    orderId,
    businessId,
    seq: 1,
    type: 'placed',
    status: row.status,
  });
  const stored = { ...row, preferenceId: null, checkoutUrl: null, paymentId: null, refundId: null, cancelReason: null };
  return { status: created ? 201 : 200, body: fromRow({ ...stored, paidAt: null, updatedAt: now }, items) };
}

export function createBaselineApp(deps: BaselineDeps) {
  const auth = createAuthService({ db: deps.db, settings: deps.auth, logger: deps.logger, metrics: deps.metrics });
  const routes = new ApiRoutes(bearerAuthenticator((token) => auth.verifyAccessToken(token)));
  routes.add({
    method: 'get',
    path: '/health',
    operationId: 'baselineHealth',
    summary: 'Liveness',
    tags: ['bench'],
    auth: 'none',
    responses: { 200: { description: 'Alive' } },
    handler: async () => ({ body: { status: 'ok' } }),
  });
  routes.add({
    method: 'post',
    path: '/baseline/businesses/:businessId/orders',
    operationId: 'placeOrderBaseline',
    summary: 'Validate, price and insert an order; no workflow, no checkout',
    tags: ['bench'],
    auth: 'user',
    params: BusinessIdParams,
    headers: IdempotencyHeaders,
    body: PlaceOrderSchema,
    responses: { 201: { description: 'Inserted', schema: OrderSchema } },
    handler: async (ctx, { params, headers, body, user }) => {
      ctx.state.businessId = params.businessId;
      return placeDirectly(deps, user.userId, params.businessId, headers['idempotency-key'], body);
    },
  });
  const app = new Koa<AppState>();
  app.use(requestContext(deps.logger, deps.metrics));
  app.use(errorHandler(() => undefined));
  app.use(helmet());
  app.use(bodyParser({ enableTypes: ['json'], encoding: 'utf-8' }));
  app.use(routes.router.routes());
  return app;
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'cafe-flow-bench-baseline' });
  const db = createDb({
    url: config.database.url!,
    poolMax: config.database.poolMax,
    applicationName: 'cafe-flow-bench-baseline',
  });
  const app = createBaselineApp({
    db,
    logger,
    metrics: createMetrics(),
    auth: config.auth,
    paymentTimeoutSeconds: config.orders.paymentTimeoutSeconds,
  });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  server.listen(config.http.port, config.http.host, () => logger.info({ port: config.http.port }, 'baseline listening'));
  onShutdown(logger, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.destroy();
  });
}
