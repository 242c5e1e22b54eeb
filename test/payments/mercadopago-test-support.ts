import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  startMercadoPagoEmulator,
  type MercadoPagoEmulator,
  type MercadoPagoEmulatorOptions,
} from '../../scripts/mercadopago-emulator';

export const TOKEN = 'TEST-token-for-tests';
export const SECRET = 'test-webhook-secret';

/** An emulator on a random port with fast, bounded delivery retries. */
export function startTestEmulator(options: MercadoPagoEmulatorOptions = {}): Promise<MercadoPagoEmulator> {
  return startMercadoPagoEmulator({
    port: 0,
    accessToken: TOKEN,
    webhookSecret: SECRET,
    delivery: { attempts: 3, baseDelayMs: 10, timeoutMs: 2000 },
    ...options,
  });
}

export interface ReceivedNotification {
  url: URL;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  received: ReceivedNotification[];
  /** Statuses to answer with, in order; 200 once exhausted. */
  respondWith(statuses: number[]): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
  close(): Promise<void>;
}

/** A shop-side notification endpoint: records every POST the emulator makes. */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedNotification[] = [];
  let statuses: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        url: new URL(req.url ?? '/', 'http://receiver'),
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
      });
      res.writeHead(statuses.shift() ?? 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/mercadopago`,
    received,
    respondWith: (next) => (statuses = [...next]),
    waitFor: async (count, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return received.slice(0, count);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls the emulator like any HTTP client would; `token` adds the Bearer header. */
export async function http(
  emulator: MercadoPagoEmulator,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; idempotencyKey?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['x-idempotency-key'] = options.idempotencyKey;
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    redirect: 'manual',
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    headers: response.headers,
  };
}

export function preferenceBody(externalReference: string, notificationUrl?: string): Record<string, unknown> {
  return {
    external_reference: externalReference,
    notification_url: notificationUrl,
    items: [
      { id: 'latte', title: 'Latte', quantity: 2, unit_price: 12.34, currency_id: 'ARS' },
      { id: 'medialuna', title: 'Medialuna', quantity: 3, unit_price: 0.1, currency_id: 'ARS' },
    ],
  };
}

/** 2 x 12.34 + 3 x 0.10: in floats 24.68 + 0.30000000000000004, in cents 2498. */
export const PREFERENCE_TOTAL = 24.98;

/** Creates a preference and pays it as the buyer; returns both as MercadoPago JSON. */
export async function createPaidPreference(
  emulator: MercadoPagoEmulator,
  externalReference: string,
  options: { notificationUrl?: string; status?: string } = {},
): Promise<{ preference: any; payment: any }> {
  const created = await http(emulator, 'POST', '/checkout/preferences', {
    token: TOKEN,
    body: preferenceBody(externalReference, options.notificationUrl),
  });
  const paid = await http(emulator, 'POST', `/__emulator/preferences/${created.body.id}/pay`, {
    body: { status: options.status ?? 'approved' },
  });
  return { preference: created.body, payment: paid.body };
}

/**
 * Verifies an x-signature the way a receiver following MercadoPago's docs would, written here
 * independently of the emulator's signer so a wrong manifest on either side shows up.
 */
export function signatureIsValid(notification: ReceivedNotification, secret = SECRET): boolean {
  const parts = Object.fromEntries(
    String(notification.headers['x-signature'] ?? '')
      .split(',')
      .map((part) => part.split('=').map((s) => s.trim()) as [string, string]),
  );
  const dataId = notification.url.searchParams.get('data.id') ?? '';
  const manifest = `id:${dataId.toLowerCase()};request-id:${notification.headers['x-request-id']};ts:${parts.ts};`;
  const expected = createHmac('sha256', secret).update(manifest).digest('hex');
  return parts.v1 === expected;
}

export function signatureTs(notification: ReceivedNotification): number {
  return Number(/ts=(\d+)/.exec(String(notification.headers['x-signature']))?.[1]);
}
