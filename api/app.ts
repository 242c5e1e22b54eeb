import Koa from 'koa';
import cors from '@koa/cors';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'koa-helmet';
import type { Client } from '@temporalio/client';
import type { Config } from '../lib/config';
import type { Db } from '../db/knex';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { createAuthService } from './auth/auth-service';
import { registerAuthRoutes } from './auth/routes';
import { createAccountsService } from './accounts/accounts-service';
import { registerAccountRoutes } from './accounts/routes';
import { createBusinessesService } from './businesses/businesses-service';
import { registerBusinessRoutes } from './businesses/routes';
import { boardRouter } from './board/routes';
import { docsRouter } from './docs/routes';
import { registerHealthRoutes, type ReadinessCheck } from './health/routes';
import { allowedMethods } from './http/allowed-methods';
import type { AppContext, AppState } from './http/context';
import { errorHandler } from './http/error-handler';
import { rateLimit } from './http/rate-limit';
import { requestContext } from './http/request-context';
import { ApiRoutes, bearerAuthenticator } from './http/routes';
import { OrderFeed } from './orders/order-feed';
import { createOrdersService } from './orders/orders-service';
import { registerOrderRoutes } from './orders/routes';
import { createProductsService } from './products/products-service';
import { registerWebhookRoutes } from './webhooks/routes';
import { createWebhooksService } from './webhooks/webhooks-service';
import { registerProductRoutes } from './products/routes';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  temporal: Client;
  readiness: Record<string, ReadinessCheck>;
  /** Where unexpected errors go besides the log (Sentry in production). */
  reportError?: (error: unknown, ctx: AppContext) => void;
}

// Probes and provider callbacks are not client traffic: the per-IP limit would only get in their way.
const RATE_LIMIT_EXEMPT = /^\/(health|ready)$|^\/v1\/webhooks\//;

/** Builds the Koa app without listening, so tests run it in-process. */
export function createApp(deps: AppDeps) {
  const { config, db, logger, metrics } = deps;
  const app = new Koa<AppState>({ proxy: config.http.trustProxy });

  const auth = createAuthService({ db, settings: config.auth, logger, metrics });
  const routes = new ApiRoutes(bearerAuthenticator((token) => auth.verifyAccessToken(token)));
  registerHealthRoutes(routes, deps.readiness);
  registerAuthRoutes(routes, auth);
  registerAccountRoutes(routes, createAccountsService({ db }));
  registerBusinessRoutes(routes, createBusinessesService({ db }));
  registerProductRoutes(routes, createProductsService({ db }));
  const orderFeed = new OrderFeed(config.database.url ?? '', logger);
  const orders = createOrdersService({
    db,
    temporal: deps.temporal,
    settings: { taskQueue: config.temporal.taskQueue, ...config.orders },
  });
  registerOrderRoutes(routes, orders, orderFeed, config.streams);
  const webhooks = createWebhooksService({
    db,
    logger,
    metrics,
    settings: {
      secret: config.mercadopago.webhookSecret,
      toleranceSeconds: config.mercadopago.webhookToleranceSeconds,
      unsignedPerMinute: config.webhooks.unsignedPerMinute,
      unsignedDedupeSeconds: config.webhooks.unsignedDedupeSeconds,
    },
  });
  registerWebhookRoutes(routes, webhooks);

  const docs = docsRouter(() => routes.document(config.http.publicBaseUrl));
  const origins = new Set(config.http.allowedOrigins);

  // Errors Koa sees after a response started (e.g. a stream cut short). A client leaving a live
  // feed is normal; anything else is logged.
  app.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') return;
    logger.error({ err: error }, 'response error');
  });
  app.use(requestContext(logger, metrics));
  app.use(errorHandler(deps.reportError ?? (() => undefined)));
  app.use(helmet());
  app.use(
    cors({
      // Only listed origins get CORS headers; with none configured, browsers on other origins are refused.
      origin: (ctx) => (origins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id', 'Retry-After', 'Location'],
      maxAge: 600,
    }),
  );
  app.use(rateLimit({ perMinute: config.http.rateLimitPerMinute, metrics, exempt: (path) => RATE_LIMIT_EXEMPT.test(path) }));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: config.http.bodyLimit, encoding: 'utf-8' }));
  app.use(docs.routes());
  app.use(boardRouter().routes());
  app.use(routes.router.routes());
  app.use(allowedMethods());

  return { app, routes, auth, close: () => orderFeed.close() };
}
