/**
 * `npm run codec-server`: Temporal's codec server contract (POST /encode and /decode with
 * `{ payloads: [...] }` in proto3 JSON, also under /{namespace}/...) over the same keys as the
 * client and the worker, so the Temporal UI and `temporal workflow show --codec-endpoint` show
 * decrypted payloads. The browser calls it straight from the UI's page: only the UI's origins
 * get CORS answers, and off loopback it must be given a token (CODEC_SERVER_AUTH_TOKEN).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import { ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import Koa, { type Context, type Next } from 'koa';
import { z } from 'zod';
import { loadConfig } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { EncryptionCodec } from '../lib/payload-codec';
import { onShutdown } from '../lib/shutdown';

export interface CodecServerOptions {
  codec: PayloadCodec;
  host: string;
  port: number;
  /** Browser origins of the Temporal UI; requests from any other origin are refused. */
  allowedOrigins: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  logger?: Logger;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

// /decode, or /{namespace}/decode as the CLI's templated --codec-endpoint builds it.
const ROUTE = /^(?:\/[^/]+)?\/(encode|decode)$/;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';
// A page of history can hold many payloads of up to 2 MiB each (Temporal's default blob limit).
const BODY_LIMIT = '16mb';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const bodySchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })),
});
type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

class CodecHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The codec server as a Koa app, without listening. */
export function createCodecApp(options: CodecServerOptions): Koa {
  const app = new Koa();
  const origins = new Set(options.allowedOrigins);
  const expected = options.authToken ? digest(`Bearer ${options.authToken}`) : undefined;

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const answer = toHttpError(error);
      if (answer.status >= 500) options.logger?.error({ err: error, path: ctx.path }, 'codec server error');
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = { error: { code: answer.code, message: answer.message } };
    }
  });
  app.use(async (ctx, next) => cors(ctx, next, origins));
  app.use(async (ctx, next) => {
    if (!ROUTE.test(ctx.path)) throw new CodecHttpError(404, 'NOT_FOUND', `no route ${ctx.path}: POST /encode or /decode`);
    if (ctx.method !== 'POST') {
      throw new CodecHttpError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed here`, { allow: 'POST, OPTIONS' });
    }
    if (expected && !timingSafeEqual(digest(ctx.get('authorization')), expected)) {
      throw new CodecHttpError(401, 'UNAUTHORIZED', 'a valid Authorization: Bearer token is required', {
        'www-authenticate': 'Bearer',
      });
    }
    await next();
  });
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT, encoding: 'utf-8' }));
  app.use(async (ctx) => {
    const parsed = bodySchema.safeParse(ctx.request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CodecHttpError(
        400,
        'INVALID_PAYLOADS',
        `expected { payloads: [{ metadata, data }] }: ${issue?.path.join('.')} ${issue?.message}`,
      );
    }
    const payloads = parsed.data.payloads.map(fromJson);
    const direction = ROUTE.exec(ctx.path)![1] as 'encode' | 'decode';
    const result = direction === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    ctx.body = { payloads: result.map(toJson) };
  });
  return app;
}

/** Listens on `host:port` (0 for any free port). */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (!options.authToken && !isLoopback(options.host)) {
    throw new Error(`the codec server decrypts for whoever reaches it: set CODEC_SERVER_AUTH_TOKEN to listen on ${options.host}`);
  }
  const server = http.createServer(createCodecApp(options).callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function cors(ctx: Context, next: Next, origins: Set<string>): Promise<void> {
  const origin = ctx.get('origin');
  // No Origin: the CLI or curl, which CORS does not concern.
  if (origin) {
    if (!origins.has(origin)) throw new CodecHttpError(403, 'ORIGIN_NOT_ALLOWED', `origin ${origin} is not allowed`);
    ctx.vary('Origin');
    ctx.set('access-control-allow-origin', origin);
    // For the UI's "include cross-origin credentials" setting (a cookie in front of this server).
    ctx.set('access-control-allow-credentials', 'true');
  }
  if (ctx.method === 'OPTIONS' && ROUTE.test(ctx.path)) {
    ctx.set('access-control-allow-methods', 'POST, OPTIONS');
    ctx.set('access-control-allow-headers', ALLOWED_HEADERS);
    ctx.set('access-control-max-age', '600');
    ctx.status = 204;
    return;
  }
  await next();
}

function toHttpError(error: unknown): CodecHttpError {
  if (error instanceof CodecHttpError) return error;
  // A payload the keys cannot open: the message names the key id, never key material.
  if (error instanceof ValueError) return new CodecHttpError(422, 'UNDECODABLE_PAYLOAD', error.message);
  const status = (error as { status?: number }).status;
  if (status === 400) return new CodecHttpError(400, 'INVALID_JSON', 'the body is not valid JSON');
  if (status === 413) return new CodecHttpError(413, 'PAYLOAD_TOO_LARGE', `bodies are limited to ${BODY_LIMIT}`);
  if (status === 415) return new CodecHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  return new CodecHttpError(500, 'INTERNAL', 'internal error');
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'cafe-flow-codec-server', file: config.log.file });
  startCodecServer({ ...config.codecServer, codec: new EncryptionCodec(config.temporal.payloadKeys), logger }).then(
    (server) => {
      const keys = config.temporal.payloadKeys.map((key) => key.id).join(', ');
      console.log(`codec server on ${server.url} (keys ${keys}; origins ${config.codecServer.allowedOrigins.join(', ')})`);
      onShutdown(logger, server.close);
    },
    (error) => {
      console.error(`codec server could not start: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
