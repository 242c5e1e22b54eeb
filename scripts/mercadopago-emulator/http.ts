import type { IncomingMessage, ServerResponse } from 'node:http';

/** MercadoPago's error envelope: `{ message, error, status, cause: [{ code, description, data }] }`. */
export interface MpErrorBody {
  message: string;
  error: string;
  status: number;
  cause: Array<{ code: string | number; description: string; data: unknown }>;
}

export class MpHttpError extends Error {
  readonly body: MpErrorBody;

  constructor(
    readonly status: number,
    message: string,
    error: string,
    cause: Array<{ code: string | number; description: string }> = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.body = { message, error, status, cause: cause.map((c) => ({ ...c, data: null })) };
  }
}

export const badRequest = (message: string, code: string | number = 'bad_request'): MpHttpError =>
  new MpHttpError(400, message, 'bad_request', [{ code, description: message }]);

export const notFound = (message: string, code: string | number = 'not_found'): MpHttpError =>
  new MpHttpError(404, message, 'not_found', [{ code, description: message }]);

const MAX_BODY_BYTES = 1_000_000;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new MpHttpError(413, 'request entity too large', 'payload_too_large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJsonBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest('JSON parse error: malformed request body', 'json_parse_error');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** MercadoPago timestamps carry milliseconds and an explicit offset: `2024-01-10T14:13:30.000-04:00`. */
export function mpDate(ms: number): string {
  const offsetMinutes = -4 * 60;
  const shifted = new Date(ms + offsetMinutes * 60_000).toISOString().replace('Z', '');
  return `${shifted}-04:00`;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
