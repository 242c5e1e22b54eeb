import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiRoutes } from './api-routes';
import { checkoutRoutes } from './checkout-page';
import { controlRoutes } from './control-routes';
import { MpHttpError, parseJsonBody, readBody, sendJson, sleep } from './http';
import { fingerprintRequest } from './idempotency';
import type { NotificationRecord } from './notifier';
import { matchRoute, type Reply, type RequestContext, type Route } from './router';
import { EmulatorState, type RequestLogEntry } from './state';
import type { EmulatorLog } from './types';

export interface MercadoPagoEmulatorOptions {
  /** 0 picks a free port. Default 0. */
  port?: number;
  host?: string;
  /** Bearer token(s) the API accepts. Default 'TEST-emulator-token'. */
  accessToken?: string | string[];
  webhookSecret?: string;
  /** Send webhooks when payments change. Default true; /__emulator/config toggles it at run time. */
  deliverNotifications?: boolean;
  /** Used when a preference has no notification_url, like the URL set in "Your integrations". */
  notificationUrl?: string;
  delivery?: { attempts?: number; baseDelayMs?: number; timeoutMs?: number };
  /** Unit of `ts` in x-signature. The docs' example and the SDK validator use seconds. */
  signatureTimestampUnit?: 'seconds' | 'milliseconds';
  collectorId?: number;
  /** URL buyers use to reach the emulator (init_point), when it differs from the listening address. */
  publicUrl?: string;
  log?: EmulatorLog;
}

export interface MercadoPagoEmulator {
  url: string;
  port: number;
  accessTokens: readonly string[];
  webhookSecret: string;
  stop(): Promise<void>;
  reset(): void;
  requests(): RequestLogEntry[];
  notifications(): NotificationRecord[];
  /** Resolves when no notification delivery is in flight (held ones excluded). */
  idle(): Promise<void>;
}

export const DEFAULT_ACCESS_TOKEN = 'TEST-emulator-token';
export const DEFAULT_WEBHOOK_SECRET = 'emulator-webhook-secret';

export async function startMercadoPagoEmulator(options: MercadoPagoEmulatorOptions = {}): Promise<MercadoPagoEmulator> {
  const host = options.host ?? '127.0.0.1';
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async () => undefined;
  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, options.port ?? 0, host);
  const url = options.publicUrl?.replace(/\/+$/, '') ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const state = createState(options, url);
  const routes = {
    api: apiRoutes(state),
    open: [...controlRoutes(state), ...checkoutRoutes(state)],
  };
  handle = (req, res) => handleRequest(state, routes, req, res);
  return {
    url,
    port,
    accessTokens: state.settings.accessTokens,
    webhookSecret: state.settings.webhookSecret,
    stop: () => close(server, state),
    reset: () => state.reset(),
    requests: () => [...state.requestLog],
    notifications: () => state.notifier.records(),
    idle: () => state.notifier.idle(),
  };
}

function createState(options: MercadoPagoEmulatorOptions, publicUrl: string): EmulatorState {
  const tokens = options.accessToken ?? DEFAULT_ACCESS_TOKEN;
  return new EmulatorState(
    {
      accessTokens: Array.isArray(tokens) ? tokens : [tokens],
      webhookSecret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
      collectorId: options.collectorId ?? 1_234_567_890,
      defaultNotificationUrl: options.notificationUrl,
      log: options.log ?? (() => undefined),
    },
    publicUrl,
    {
      deliver: options.deliverNotifications ?? true,
      // MercadoPago retries for days; the emulator retries a few times, quickly, so tests stay bounded.
      policy: {
        attempts: options.delivery?.attempts ?? 4,
        baseDelayMs: options.delivery?.baseDelayMs ?? 500,
        timeoutMs: options.delivery?.timeoutMs ?? 5000,
      },
      tsUnit: options.signatureTimestampUnit ?? 'seconds',
    },
  );
}

async function handleRequest(
  state: EmulatorState,
  routes: { api: Route[]; open: Route[] },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const method = req.method ?? 'GET';
  try {
    const raw = await readBody(req);
    const body = isForm(req) ? raw : parseJsonBody(raw);
    const open = matchRoute(routes.open, method, url.pathname);
    if (open) return await respond(res, await open.route.handler({ req, res, url, params: open.params, body }));
    const api = matchRoute(routes.api, method, url.pathname);
    if (!api) throw new MpHttpError(404, 'resource not found', 'not_found');
    await handleApiCall(state, { req, res, url, params: api.params, body }, api.route);
  } catch (error) {
    if (!res.headersSent) sendError(res, error, state);
  }
}

/** Auth, injected faults and idempotency around one MercadoPago API call, all written to the request log. */
async function handleApiCall(state: EmulatorState, ctx: RequestContext, route: Route): Promise<void> {
  const started = Date.now();
  const method = ctx.req.method ?? 'GET';
  const idempotencyKey = header(ctx.req, 'x-idempotency-key');
  const entry = {
    at: new Date(started).toISOString(),
    method,
    path: ctx.url.pathname,
    query: Object.fromEntries(ctx.url.searchParams),
    authorized: isAuthorized(state, ctx),
    idempotencyKey,
    body: ctx.body,
    idempotentReplay: false,
    faultId: undefined as number | undefined,
  };
  const finish = (reply: Reply): void => {
    state.logRequest({ ...entry, status: reply.status, durationMs: Date.now() - started });
    respond(ctx.res, reply);
  };
  try {
    if (!entry.authorized) throw unauthorized(ctx);
    const fault = state.apiFaults.take(method, ctx.url.pathname);
    entry.faultId = fault?.rule.id;
    if (fault && fault.rule.delayMs > 0) await sleep(fault.rule.delayMs);
    if (fault?.error) throw fault.error;
    finish(await withIdempotency(state, ctx, route, idempotencyKey, () => (entry.idempotentReplay = true)));
  } catch (error) {
    if (!(error instanceof MpHttpError)) throw error;
    finish({ status: error.status, body: error.body, headers: error.headers });
  }
}

async function withIdempotency(
  state: EmulatorState,
  ctx: RequestContext,
  route: Route,
  key: string | undefined,
  onReplay: () => void,
): Promise<Reply> {
  const method = ctx.req.method ?? 'GET';
  const guarded = key !== undefined && method !== 'GET';
  const scope = header(ctx.req, 'authorization') ?? '';
  const fingerprint = fingerprintRequest(method, ctx.url.pathname, ctx.body);
  const replay = guarded ? state.idempotency.lookup(scope, key, fingerprint) : undefined;
  if (replay) {
    onReplay();
    return replay;
  }
  const reply = (await route.handler(ctx)) ?? { status: 204, body: undefined };
  if (guarded && reply.status < 300) state.idempotency.remember(scope, key, fingerprint, reply);
  return reply;
}

function isAuthorized(state: EmulatorState, ctx: RequestContext): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(header(ctx.req, 'authorization') ?? '')?.[1];
  // The legacy `?access_token=` query parameter is still accepted by MercadoPago.
  const token = bearer ?? ctx.url.searchParams.get('access_token') ?? undefined;
  return token !== undefined && state.settings.accessTokens.includes(token.trim());
}

function unauthorized(ctx: RequestContext): MpHttpError {
  const present = header(ctx.req, 'authorization') !== undefined || ctx.url.searchParams.has('access_token');
  return present
    ? new MpHttpError(401, 'invalid access token', 'unauthorized', [
        { code: 'invalid_token', description: 'invalid access token' },
      ])
    : new MpHttpError(401, 'Must provide your access_token to proceed', 'unauthorized', [
        { code: 5, description: 'Must provide your access_token to proceed' },
      ]);
}

function respond(res: ServerResponse, reply: Reply | void): void {
  if (!reply || res.headersSent) return;
  if (reply.body === undefined) {
    res.writeHead(reply.status, reply.headers ?? {});
    return void res.end();
  }
  sendJson(res, reply.status, reply.body, reply.headers);
}

function sendError(res: ServerResponse, error: unknown, state: EmulatorState): void {
  if (error instanceof MpHttpError) return sendJson(res, error.status, error.body, error.headers);
  state.settings.log('emulator.error', { error: error instanceof Error ? error.stack : String(error) });
  sendJson(res, 500, { message: 'internal_error', error: 'internal_server_error', status: 500, cause: [] });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const isForm = (req: IncomingMessage): boolean =>
  (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function close(server: Server, state: EmulatorState): Promise<void> {
  state.reset();
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
