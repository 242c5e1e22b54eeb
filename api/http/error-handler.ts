import type { Next } from 'koa';
import { AppError, badRequest, conflict, unavailable, unsupportedMediaType, type ErrorStatus } from '../../lib/errors';
import type { AppContext } from './context';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  code?: string;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

/** Postgres or Temporal down: the client should retry, not report a bug. */
function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; name?: string; message?: string; cause?: unknown };
  if (typeof e?.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  // gRPC UNAVAILABLE / DEADLINE_EXCEEDED from the Temporal client.
  if (e?.name === 'ServiceError' || e?.code === 14 || e?.code === 4) return true;
  if (e?.name === 'KnexTimeoutError') return true;
  return e?.cause !== undefined && e.cause !== error && isUnavailable(e.cause);
}

/** Maps errors that libraries raise (body parser, Postgres) to our shape. */
function fromLibraryError(error: unknown): AppError | undefined {
  const e = error as HttpishError;
  const status = e?.status ?? e?.statusCode;
  if (e?.type === 'entity.too.large' || status === 413) {
    return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
  }
  // co-body marks a body it cannot parse (bad syntax, a bare scalar, __proto__) as a 400 SyntaxError.
  if (e?.type === 'entity.parse.failed' || (error instanceof SyntaxError && status === 400)) {
    return badRequest('INVALID_JSON', 'Request body is not valid JSON');
  }
  if (status === 415) return unsupportedMediaType();
  // A Content-Encoding the body does not match: zlib (Z_DATA_ERROR...) or brotli (ERR__ERROR_...) cannot inflate it.
  if (typeof e?.code === 'string' && /^(Z_|ERR__ERROR_)/.test(e.code)) {
    return badRequest('INVALID_BODY_ENCODING', 'The body could not be decoded as its Content-Encoding says');
  }
  // objection wraps driver errors (UniqueViolationError...) and keeps the driver's in nativeError.
  const code = e?.code ?? (error as { nativeError?: { code?: string } })?.nativeError?.code;
  if (code === '23505') return conflict('CONFLICT', 'The resource already exists');
  if (code === '22P02') return badRequest('VALIDATION_FAILED', 'A value has the wrong format');
  if (isUnavailable(error)) {
    return unavailable('SERVICE_UNAVAILABLE', 'A service we depend on is unavailable; try again shortly', 5);
  }
  // Other client errors libraries raise on purpose (an aborted upload, a Content-Length that lies).
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) {
    return new AppError(status as ErrorStatus, 'BAD_REQUEST', 'The request could not be read');
  }
  return undefined;
}

/**
 * First in the chain: everything thrown below becomes one JSON shape. Only AppErrors and known
 * library errors reach the client in detail; the rest is a generic 500, logged with its stack.
 */
export function errorHandler(report: (error: unknown, ctx: AppContext) => void) {
  return async (ctx: AppContext, next: Next) => {
    try {
      await next();
      // A method a route does not offer is a 405 from allowedMethods(); what is left is an unknown path.
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = errorBody('ROUTE_NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      // A body left half read (too large, badly encoded) cannot be skipped to reach the next request
      // on this connection: Node closes it, so say so, or a keep-alive client reuses a dead socket.
      if (ctx.req && !ctx.req.complete) ctx.set('Connection', 'close');
      const known = error instanceof AppError ? error : fromLibraryError(error);
      if (known) {
        ctx.status = known.status;
        ctx.body = errorBody(known.code, known.message, known.details);
        for (const [name, value] of Object.entries(known.headers ?? {})) ctx.set(name, value);
        return;
      }
      ctx.state.log?.error({ err: error }, 'unhandled error');
      report(error, ctx);
      ctx.status = 500;
      ctx.body = {
        error: { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side', requestId: ctx.state.requestId },
      };
    }
  };
}
