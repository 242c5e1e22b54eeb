import { MpHttpError } from './http';

export interface StoredResponse {
  status: number;
  body: unknown;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse;
}

/**
 * `X-Idempotency-Key` semantics on POSTs: the same key with the same request replays the stored
 * response without creating a second resource; the same key with a different request is a 409.
 * Only successful responses are remembered, so a request refused because of state (a refund on a
 * still-pending payment) can succeed later with the same key, as MercadoPago allows.
 */
export class IdempotencyCache {
  private entries = new Map<string, Entry>();

  lookup(scope: string, key: string, fingerprint: string): StoredResponse | undefined {
    const entry = this.entries.get(`${scope}\u0000${key}`);
    if (!entry) return undefined;
    if (entry.fingerprint !== fingerprint) {
      throw new MpHttpError(409, 'Idempotency key already used with a different request', 'conflict', [
        { code: 'idempotency_key_conflict', description: `X-Idempotency-Key ${key} was used with a different request` },
      ]);
    }
    return entry.response;
  }

  remember(scope: string, key: string, fingerprint: string, response: StoredResponse): void {
    this.entries.set(`${scope}\u0000${key}`, { fingerprint, response });
  }

  reset(): void {
    this.entries.clear();
  }
}

/** Method, path and body, with object keys sorted so `{a,b}` and `{b,a}` are the same request. */
export function fingerprintRequest(method: string, path: string, body: unknown): string {
  return `${method} ${path.replace(/\/+$/, '')} ${canonicalJson(body)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
