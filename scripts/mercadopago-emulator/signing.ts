import { createHmac } from 'node:crypto';

/**
 * MercadoPago's webhook signature, as documented under "Validate notification origin":
 * the manifest `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` is HMAC-SHA256'd (hex) with the
 * application's secret and sent as `x-signature: ts=<ts>,v1=<hex>`. Parts absent from the
 * notification are left out of the manifest, and an alphanumeric data.id is signed lowercased.
 */

export interface WebhookSignatureInput {
  secret: string;
  /** The `data.id` query parameter of the notification URL. */
  dataId?: string | number;
  /** The `x-request-id` header. */
  requestId?: string;
  /** Defaults to now, in seconds: the unit of the docs' example and of the SDK's validator. */
  ts?: number | string;
}

export function buildWebhookManifest({ dataId, requestId, ts }: Omit<WebhookSignatureInput, 'secret'>): string {
  const parts: string[] = [];
  if (dataId !== undefined && dataId !== '') parts.push(`id:${normaliseDataId(String(dataId))}`);
  if (requestId) parts.push(`request-id:${requestId}`);
  parts.push(`ts:${ts}`);
  return `${parts.join(';')};`;
}

/** Returns the full `x-signature` header value, e.g. `ts=1704908010,v1=618c85...`. */
export function signMercadoPagoWebhook(input: WebhookSignatureInput): string {
  const ts = input.ts ?? Math.floor(Date.now() / 1000);
  const manifest = buildWebhookManifest({ dataId: input.dataId, requestId: input.requestId, ts });
  const v1 = createHmac('sha256', input.secret).update(manifest).digest('hex');
  return `ts=${ts},v1=${v1}`;
}

function normaliseDataId(dataId: string): string {
  return /^[a-zA-Z0-9]+$/.test(dataId) ? dataId.toLowerCase() : dataId;
}
