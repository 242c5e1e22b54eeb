import * as Sentry from '@sentry/node';
import type { Config } from './config';
import { REDACTED_PATHS } from './logger';

export type ErrorReporter = (error: unknown, context: Record<string, unknown>) => void;

const SECRET_KEYS = new Set(
  REDACTED_PATHS.map((path) =>
    path
      .split('.')
      .pop()!
      .replace(/[[\]"]/g, '')
      .toLowerCase(),
  ),
);

/** Removes anything that looks like a credential from what is sent to Sentry. */
export function scrub<T>(value: T, depth = 0): T {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? '[redacted]' : scrub(item, depth + 1);
  }
  return out as T;
}

/** Sentry when SENTRY_DSN is set; otherwise nothing is initialised and nothing is sent. */
export function initSentry(config: Config, service: string): ErrorReporter | undefined {
  if (!config.sentry.dsn) return undefined;
  Sentry.init({
    dsn: config.sentry.dsn,
    environment: config.sentry.environment,
    serverName: service,
    sendDefaultPii: false,
    beforeSend: (event) => scrub(event),
  });
  return (error, context) => {
    Sentry.withScope((scope) => {
      scope.setTags({ service });
      scope.setContext('cafe-flow', scrub(context));
      Sentry.captureException(error);
    });
  };
}

export async function flushSentry(): Promise<void> {
  await Sentry.close(2_000);
}
