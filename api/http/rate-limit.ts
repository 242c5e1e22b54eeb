import type { Next } from 'koa';
import type { Metrics } from '../../lib/metrics';
import { errorBody } from './error-handler';
import type { AppContext } from './context';

interface Window {
  startedAt: number;
  count: number;
}

export interface WindowHit {
  count: number;
  remaining: number;
  resetSeconds: number;
  limited: boolean;
}

/**
 * Fixed one-minute windows per key, in process memory, swept once a minute so idle keys do not
 * accumulate. Shared by the per-IP limit and the webhook's unsigned-hint limit.
 */
export function windowCounter(perMinute: number, now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  let lastSweep = now();
  return (key: string): WindowHit => {
    const at = now();
    if (at - lastSweep >= 60_000) {
      lastSweep = at;
      for (const [k, window] of windows) if (at - window.startedAt >= 60_000) windows.delete(k);
    }
    let window = windows.get(key);
    if (!window || at - window.startedAt >= 60_000) {
      window = { startedAt: at, count: 0 };
      windows.set(key, window);
    }
    window.count += 1;
    return {
      count: window.count,
      remaining: Math.max(0, perMinute - window.count),
      resetSeconds: Math.ceil((window.startedAt + 60_000 - at) / 1000),
      limited: window.count > perMinute,
    };
  };
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
  const hit = windowCounter(options.perMinute, options.now);
  return async (ctx: AppContext, next: Next) => {
    if (options.exempt(ctx.path)) return next();
    const { remaining, resetSeconds, limited } = hit(ctx.ip);
    ctx.set('RateLimit-Limit', String(options.perMinute));
    ctx.set('RateLimit-Remaining', String(remaining));
    ctx.set('RateLimit-Reset', String(resetSeconds));
    if (limited) {
      options.metrics.rateLimitRejections.inc({ scope: 'ip' });
      ctx.status = 429;
      ctx.set('Retry-After', String(resetSeconds));
      ctx.body = errorBody('RATE_LIMITED', `Too many requests; retry in ${resetSeconds} s`);
      return;
    }
    return next();
  };
}
