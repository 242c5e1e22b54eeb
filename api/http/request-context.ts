import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { withLogContext, type Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { AppContext } from './context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The route template (`/v1/orders/:orderId`), never the raw path: ids would explode the label set. */
export const routeTemplate = (ctx: AppContext) =>
  String((ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched');

function accessLine(ctx: AppContext, route: string, seconds: number) {
  return {
    category: ctx.status === 401 || ctx.status === 403 ? 'security' : 'access',
    method: ctx.method,
    route,
    path: ctx.path,
    status: ctx.status,
    durationMs: Math.round(seconds * 1e4) / 10,
    ip: ctx.ip,
    userId: ctx.state.user?.userId,
    // Routes that check a role set it; on the others the URL names the business.
    businessId: ctx.state.businessId ?? (ctx as unknown as { params?: Record<string, string> }).params?.businessId,
  };
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one) that
 * every log line written while handling it carries, whichever logger writes it; one access-log
 * line; and the RED metrics. Runs outside the error handler so the final status is what gets
 * counted.
 */
export function requestContext(logger: Logger, metrics: Metrics) {
  return async (ctx: AppContext, next: Next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger;
    ctx.set('X-Request-Id', requestId);

    await withLogContext({ requestId }, async () => {
      const started = process.hrtime.bigint();
      metrics.httpInFlight.inc();
      try {
        await next();
      } finally {
        metrics.httpInFlight.dec();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeTemplate(ctx);
        const labels = { method: ctx.method, route, status: String(ctx.status) };
        metrics.httpRequests.inc(labels);
        metrics.httpDuration.observe(labels, seconds);
        const line = accessLine(ctx, route, seconds);
        if (ctx.status >= 500) logger.error(line, 'request failed');
        else if (line.category === 'security') logger.warn(line, 'request refused');
        else logger.info(line, 'request');
      }
    });
  };
}
