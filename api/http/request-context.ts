import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { AppContext } from './context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one), a child
 * logger carrying it, one access-log line and the RED metrics. Runs outside the error handler so
 * the final status is what gets counted.
 */
export function requestContext(logger: Logger, metrics: Metrics) {
  return async (ctx: AppContext, next: Next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);

    const started = process.hrtime.bigint();
    metrics.httpInFlight.inc();
    try {
      await next();
    } finally {
      metrics.httpInFlight.dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      const labels = { method: ctx.method, route: String(route), status: String(ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      const line = {
        category: 'access',
        method: ctx.method,
        route: labels.route,
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round(seconds * 1e4) / 10,
        ip: ctx.ip,
        userId: ctx.state.user?.userId,
        businessId: ctx.state.businessId,
      };
      if (ctx.status >= 500) ctx.state.log.error(line, 'request failed');
      else if (ctx.status === 401 || ctx.status === 403) ctx.state.log.warn({ ...line, category: 'security' }, 'request refused');
      else ctx.state.log.info(line, 'request');
    }
  };
}
