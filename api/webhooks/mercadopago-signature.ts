import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing_signature' | 'invalid_signature' | 'stale';

/**
 * MercadoPago's "validate notification origin": the manifest
 * `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` (parts absent from the request left out, an
 * alphanumeric data.id lowercased) HMAC-SHA256'd with the webhook secret, hex, compared in
 * constant time; `ts` (seconds) must be within the freshness window.
 */
export function verifyMercadoPagoSignature(input: {
  header: string | undefined;
  requestId: string | undefined;
  dataId: string | undefined;
  secret: string;
  toleranceSeconds: number;
  nowMs?: number;
}): SignatureCheck {
  if (!input.header) return 'missing_signature';
  const parts = new Map<string, string>();
  for (const piece of input.header.split(',')) {
    const [key, value] = piece.split('=', 2).map((part) => part?.trim());
    if (key && value) parts.set(key, value);
  }
  const ts = parts.get('ts');
  const v1 = parts.get('v1');
  if (!ts || !v1 || !/^\d+$/.test(ts) || !/^[0-9a-f]{64}$/i.test(v1)) return 'invalid_signature';

  const manifest: string[] = [];
  if (input.dataId) manifest.push(`id:${/^[a-zA-Z0-9]+$/.test(input.dataId) ? input.dataId.toLowerCase() : input.dataId}`);
  if (input.requestId) manifest.push(`request-id:${input.requestId}`);
  manifest.push(`ts:${ts}`);
  const expected = createHmac('sha256', input.secret)
    .update(`${manifest.join(';')};`)
    .digest();
  const given = Buffer.from(v1, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid_signature';

  // Seconds per MercadoPago's example; a millisecond value is accepted too, as their prose describes.
  const tsMs = ts.length > 11 ? Number(ts) : Number(ts) * 1000;
  const ageSeconds = Math.abs((input.nowMs ?? Date.now()) - tsMs) / 1000;
  return ageSeconds > input.toleranceSeconds ? 'stale' : 'valid';
}
