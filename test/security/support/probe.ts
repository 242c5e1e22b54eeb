import { expect } from 'chai';

/** Raw requests (any body, any content type, streams cut short) and what every answer must look like. */

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as bytes, so fetch adds no Content-Type of its own. */
  body?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/**
 * Sends one request. An event stream is cut after its headers (it would never end); anything
 * that takes longer than `timeoutMs` fails, since a hung request is a finding too.
 */
export async function send(baseUrl: string, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : Buffer.from(request.body, 'utf8'),
      signal: controller.signal,
    });
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, headers: response.headers, text: '', json: undefined };
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  } finally {
    clearTimeout(timer);
  }
}

/** Text that only a server's insides would produce: stack frames, SQL, paths, library errors. */
const LEAKS: RegExp[] = [
  /\n\s+at\s+\S+/,
  /\bat\s+[\w$.<>]+\s+\([^)]*:\d+:\d+\)/,
  /(?:\/work\/|\/home\/|\/usr\/|\/app\/|node_modules|[\w-]+\.(?:ts|js|mjs|cjs):\d+)/,
  /\b(?:select\s+[\w*"., ]+\s+from|insert\s+into|update\s+"?\w+"?\s+set|delete\s+from|returning\s+\*)\b/i,
  /syntax error at or near|violates (?:unique|foreign key|check|not-null) constraint|duplicate key value|invalid input (?:syntax|value) for|relation "\w+"|column "\w+"|invalid byte sequence|unsupported unicode escape/i,
  /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|AggregateError|KnexTimeoutError|ServiceError|WorkflowUpdateFailedError)\b/,
  /Cannot read propert|is not a function|is not defined|undefined is not|Maximum call stack/i,
  /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b/,
  /Unexpected token|in JSON at position|Unexpected end of JSON/i,
  /scrypt\$|password_?hash/i,
];

/**
 * Leaks in `text`, except matches that are the caller's own input echoed back (a field name in
 * a validation message, a path in ROUTE_NOT_FOUND): `sent` holds everything sent so far.
 */
export function leaksIn(text: string, sent: readonly string[]): string[] {
  const found: string[] = [];
  for (const pattern of LEAKS) {
    const match = pattern.exec(text);
    if (match && !sent.some((input) => input.includes(match[0]))) found.push(match[0]);
  }
  return found;
}

const ERROR_CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** The one error shape: `{ error: { code, message, details?, requestId? } }` as JSON, with a stable code. */
export function expectErrorShape(response: RawResponse, context: string): void {
  expect(response.headers.get('content-type') ?? '', `${context}: content type`).to.match(/^application\/json/);
  const body = response.json as { error?: Record<string, unknown> } | undefined;
  expect(body, `${context}: a JSON object`).to.be.an('object');
  expect(Object.keys(body as object), `${context}: only "error" at the top`).to.deep.equal(['error']);
  const error = body!.error as Record<string, unknown>;
  expect(error, `${context}: error is an object`).to.be.an('object');
  expect(
    Object.keys(error).every((key) => ['code', 'message', 'details', 'requestId'].includes(key)),
    `${context}: keys`,
  ).to.equal(true);
  expect(error.code, `${context}: code`).to.be.a('string').and.match(ERROR_CODE);
  expect(error.message, `${context}: message`).to.be.a('string').and.not.equal('');
}
