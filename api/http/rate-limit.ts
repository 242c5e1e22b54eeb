import type { Next } from 'koa';
import type { Metrics } from '../../lib/metrics';
import { errorBody } from './error-handler';
import type { AppContext } from './context';

interface Window {
  startedAt: number;
  count: number;
}

/**
 * A fixed one-minute window per client IP, in process memory. nginx applies the same limit in
 * front of every replica; this one protects a replica reached directly and gives clients a
 * `Retry-After` they can act on.
 */
export function rateLimit(options: {
  perMinute: number;
  metrics: Metrics;
  exempt: (path: string) => boolean;
  now?: () => number;
}) {
  const windows = new Map<string, Window>();
  const now = options.now ?? Date.now;
  let lastSweep = now();

  function sweep(at: number) {
    if (at - lastSweep < 60_000) return;
    lastSweep = at;
    for (const [ip, window] of windows) if (at - window.startedAt >= 60_000) windows.delete(ip);
  }

  return async (ctx: AppContext, next: Next) => {
    if (options.exempt(ctx.path)) return next();
    const at = now();
    sweep(at);
    let window = windows.get(ctx.ip);
    if (!window || at - window.startedAt >= 60_000) {
      window = { startedAt: at, count: 0 };
      windows.set(ctx.ip, window);
    }
    window.count += 1;
    const remaining = Math.max(0, options.perMinute - window.count);
    const resetSeconds = Math.ceil((window.startedAt + 60_000 - at) / 1000);
    ctx.set('RateLimit-Limit', String(options.perMinute));
    ctx.set('RateLimit-Remaining', String(remaining));
    ctx.set('RateLimit-Reset', String(resetSeconds));
    if (window.count > options.perMinute) {
      options.metrics.rateLimitRejections.inc({ scope: 'ip' });
      ctx.status = 429;
      ctx.set('Retry-After', String(resetSeconds));
      ctx.body = errorBody('RATE_LIMITED', `Too many requests; retry in ${resetSeconds} s`);
      return;
    }
    return next();
  };
}
