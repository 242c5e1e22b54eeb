import * as Sentry from '@sentry/node';
import type { Config } from './config';
import { REDACTED_PATHS } from './logger';

export type ErrorReporter = (error: unknown, context: Record<string, unknown>) => void;

const SECRET_KEYS = new Set(
  [...REDACTED_PATHS, 'access_token', 'refresh_token', 'x-idempotency-key']
    .map((path) =>
      path
        .split('.')
        .pop()!
        .replace(/[[\]"]/g, '')
        .toLowerCase(),
    )
    .concat(['accesstoken', 'refreshtoken']),
);

const isSecretKey = (key: string) => SECRET_KEYS.has(key.toLowerCase());

/** Removes anything that looks like a credential from what is sent to Sentry. */
export function scrub<T>(value: T, depth = 0): T {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? '[redacted]' : scrub(item, depth + 1);
  }
  return out as T;
}

/** `?token=...` reaches a live feed from a browser's EventSource: blank secret parameters. */
function scrubQuery(query: string): string {
  const params = new URLSearchParams(query);
  for (const key of [...params.keys()]) if (isSecretKey(key)) params.set(key, '[redacted]');
  return params.toString();
}

function scrubUrl(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : `${url.slice(0, at)}?${scrubQuery(url.slice(at + 1))}`;
}

/**
 * The request Sentry attaches to an event, without what may hold credentials or personal data:
 * no body (a login carries a password), no cookies, secret headers and query parameters blanked.
 */
function scrubRequest(request: Sentry.Event['request']): Sentry.Event['request'] {
  if (!request) return request;
  const { data: _body, cookies: _cookies, ...rest } = request;
  return {
    ...scrub(rest),
    url: rest.url && scrubUrl(rest.url),
    query_string: typeof rest.query_string === 'string' ? scrubQuery(rest.query_string) : scrub(rest.query_string),
  };
}

export function scrubEvent<E extends Sentry.Event>(event: E): E {
  return { ...scrub(event), request: scrubRequest(event.request) };
}

/** Sentry when SENTRY_DSN is set; otherwise nothing is initialised and nothing is sent. */
export function initSentry(config: Config, service: string): ErrorReporter | undefined {
  if (!config.sentry.dsn) return undefined;
  Sentry.init({
    dsn: config.sentry.dsn,
    environment: config.sentry.environment,
    serverName: service,
    sendDefaultPii: false,
    // Request bodies never leave the process: a login or register body holds a password.
    integrations: [Sentry.httpIntegration({ maxIncomingRequestBodySize: 'none' })],
    beforeSend: (event) => scrubEvent(event),
    beforeBreadcrumb: (breadcrumb) => {
      const clean = scrub(breadcrumb);
      if (typeof clean.data?.url === 'string') clean.data.url = scrubUrl(clean.data.url);
      return clean;
    },
  });
  return (error, context) => {
    Sentry.withScope((scope) => {
      scope.setTags({ service });
      // Bounded values only as tags, so issues can be filtered by route or activity.
      for (const key of ['route', 'method', 'activity', 'workflowType'] as const) {
        if (typeof context[key] === 'string') scope.setTag(key, context[key]);
      }
      scope.setContext('cafe-flow', scrub(context));
      Sentry.captureException(error);
    });
  };
}

export async function flushSentry(): Promise<void> {
  await Sentry.close(2_000);
}
