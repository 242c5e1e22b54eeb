/**
 * Errors the domain raises; the API's error middleware maps each code to one HTTP status and a
 * stable `code` clients can branch on. Anything that is not an AppError is a 500 whose details
 * stay in the logs.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503;

export class AppError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

// One helper per kind of refusal, so a status and its stable code are chosen in one place.
export const badRequest = (code: string, message: string, details?: unknown) => new AppError(400, code, message, details);
export const unauthorized = (code = 'UNAUTHORIZED', message = 'Authentication required') => new AppError(401, code, message);
export const forbidden = (message = 'You do not have permission to do this') => new AppError(403, 'FORBIDDEN', message);
export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);
/** `allow`: the methods the route offers, as the `Allow` header lists them. */
export const methodNotAllowed = (method: string, allow: string) =>
  new AppError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; see the Allow header`, undefined, { Allow: allow });
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const unsupportedMediaType = () => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
export const unprocessable = (code: string, message: string, details?: unknown) => new AppError(422, code, message, details);
const retryAfter = (seconds?: number) => (seconds === undefined ? undefined : { 'Retry-After': String(seconds) });
export const tooManyRequests = (code: string, message: string, retryAfterSeconds?: number, details?: unknown) =>
  new AppError(429, code, message, details, retryAfter(retryAfterSeconds));
/** A dependency is down or busy: clients retry after `retryAfterSeconds`. */
export const unavailable = (code: string, message: string, retryAfterSeconds?: number) =>
  new AppError(503, code, message, undefined, retryAfter(retryAfterSeconds));
