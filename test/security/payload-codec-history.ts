import type { Payload, PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** Reading a workflow history as someone without the keys would, and as an operator with them. */

type History = temporal.api.history.v1.IHistory;

/**
 * Every payload the codec handles, wherever it sits: inputs, results, updates, local activity
 * results, memos, failure details. Left out, as the SDK leaves them in clear: search attributes
 * (the server indexes them; they hold business ids and statuses) and the SDK core's own marker
 * bookkeeping (patch ids; a local activity's type, attempt and times). rawText() covers those.
 */
export function historyPayloads(history: History): Payload[] {
  const found: Payload[] = [];
  const visit = (value: unknown, field = ''): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
      found.push(record as Payload);
      return;
    }
    for (const [name, child] of Object.entries(record)) {
      if (name === 'searchAttributes' || (field === 'details' && (name === 'data' || name === 'patch-data'))) continue;
      visit(child, name);
    }
  };
  visit(history);
  return found;
}

/** Every string and every byte field of the history (bytes read as UTF-8): what the server stores. */
export function rawText(history: History): string {
  const parts: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') parts.push(value);
    else if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(history);
  return parts.join('\n');
}

/** The payloads of the history decoded by `codec`, as text: what the codec server shows an operator. */
export async function decodedText(history: History, codec: PayloadCodec): Promise<string> {
  const decoded = await codec.decode(historyPayloads(history));
  return decoded.map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')).join('\n');
}
