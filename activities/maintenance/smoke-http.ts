import { Context } from '@temporalio/activity';
import type { Probe } from '../../workflows/maintenance/smoke-contracts';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
  ms: number;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Request = <T = any>(method: string, path: string, options?: RequestOptions) => Promise<Answer<T>>;

/**
 * JSON over fetch against one deployment. Every request has its own timeout and follows the
 * activity's cancellation; network errors come back as one line naming the request.
 */
export function smokeHttp(baseUrl: string, requestTimeoutMs: number): Request {
  const root = baseUrl.replace(/\/+$/, '');
  return async (method, path, options = {}) => {
    const url = /^https?:\/\//.test(path) ? path : `${root}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'cafe-flow-smoke', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        // A redirect (http to https, a login page) is an answer worth reporting, not following.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(requestTimeoutMs), Context.current().cancellationSignal]),
      });
    } catch (error) {
      throw new Error(`${method} ${url}: ${networkError(error, requestTimeoutMs)}`);
    }
    const text = await response.text();
    return { status: response.status, body: parseJson(text), headers: response.headers, ms: performance.now() - started };
  };
}

/** Fails the check unless the answer has the expected status, quoting the API's error code. */
export function expectStatus(answer: Answer, expected: number | number[], what: string): void {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (allowed.includes(answer.status)) return;
  throw new Error(`${what} answered ${answer.status}${describeBody(answer.body)}, expected ${allowed.join(' or ')}`);
}

export function describeBody(body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (error?.code) return ` ${error.code}: ${error.message ?? ''}`.trimEnd();
  if (typeof body === 'string' && body.length > 0) return ` "${body.slice(0, 120)}"`;
  return '';
}

/** Times a check and turns what it throws into a failed result: the run goes on either way. */
export async function probe<T>(work: () => Promise<Omit<Probe<T>, 'durationMs'>>): Promise<Probe<T>> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    return { ...(await work()), durationMs: elapsed() };
  } catch (error) {
    return { status: 'failed', durationMs: elapsed(), error: error instanceof Error ? error.message : String(error) };
  }
}

export const passed = <T>(data?: T, detail?: string): Omit<Probe<T>, 'durationMs'> => ({ status: 'passed', data, detail });

/** Sleeps between polls; heartbeats so a lost worker is noticed, and wakes on cancellation. */
export async function pause(ms: number, details?: unknown): Promise<void> {
  const context = Context.current();
  context.heartbeat(details);
  await context.sleep(ms);
}

// Whatever the API answered; each check reads the fields it expects and reports what is missing.
function parseJson(text: string): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function networkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
