import { expect } from 'chai';
import type { Db } from '../../../db/knex';
import type { RequestLogEntry } from '../../../scripts/mercadopago-emulator';

/** What must hold after any amount of chaos, checked on the read model and the provider's own log. */

/** Every order's events are numbered 1..n with no gap and no repeat, and the order row points at the last. */
export async function expectEventLogsIntact(db: Db, orderIds: string[]): Promise<void> {
  const events: { orderId: string; seq: number }[] = await db('orderEvents')
    .whereIn('orderId', orderIds)
    .orderBy(['orderId', 'seq'])
    .select('orderId', 'seq');
  const orders: { id: string; lastEventSeq: number }[] = await db('orders').whereIn('id', orderIds).select('id', 'lastEventSeq');
  expect(orders, 'every order has a row').to.have.length(orderIds.length);
  const broken: string[] = [];
  for (const order of orders) {
    const seqs = events.filter((event) => event.orderId === order.id).map((event) => event.seq);
    const expected = seqs.map((_, i) => i + 1);
    if (JSON.stringify(seqs) !== JSON.stringify(expected) || order.lastEventSeq !== seqs.length) {
      broken.push(`${order.id}: seqs ${seqs.join(',')}, last_event_seq ${order.lastEventSeq}`);
    }
  }
  expect(broken, 'orders whose event log has a gap or a repeat').to.deep.equal([]);
}

const succeeded = (entry: RequestLogEntry) => entry.status < 300 && !entry.idempotentReplay;

/**
 * Side effects at the provider happened at most once per key: one preference per order, and one
 * refund per (order, payment), however often Temporal retried the activity.
 */
export function expectProviderSideEffectsOnce(requests: RequestLogEntry[], orderIds: string[]): void {
  const preferences = requests.filter((r) => r.method === 'POST' && /^\/checkout\/preferences\/?$/.test(r.path) && succeeded(r));
  const refunds = requests.filter((r) => r.method === 'POST' && /\/refunds\/?$/.test(r.path) && succeeded(r));
  const repeated = (entries: RequestLogEntry[]) => {
    const counts = new Map<string, number>();
    for (const entry of entries)
      counts.set(entry.idempotencyKey ?? '(none)', (counts.get(entry.idempotencyKey ?? '(none)') ?? 0) + 1);
    return [...counts.entries()].filter(([, count]) => count > 1);
  };
  expect(repeated(preferences), 'preferences created twice under one key').to.deep.equal([]);
  expect(repeated(refunds), 'refunds made twice under one key').to.deep.equal([]);
  for (const orderId of orderIds) {
    expect(
      preferences.filter((entry) => entry.idempotencyKey === `preference:${orderId}`),
      `preference of ${orderId}`,
    ).to.have.length(1);
  }
}

/** The buyer at the emulator's checkout. */
export async function payAtProvider(emulatorUrl: string, preferenceId: string, status = 'approved') {
  const response = await fetch(`${emulatorUrl}/__emulator/preferences/${preferenceId}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  expect(response.status, `paying ${preferenceId}`).to.equal(201);
  return (await response.json()) as { id: number; status: string };
}

/** Every payment the provider holds for an order (its external reference). */
export async function paymentsAtProvider(emulatorUrl: string, token: string, orderId: string) {
  const response = await fetch(`${emulatorUrl}/v1/payments/search?external_reference=${orderId}&limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).to.equal(200);
  return ((await response.json()) as { results: { id: number; status: string }[] }).results;
}

/** Runs `work` over `items` with at most `concurrency` at a time; results in input order. */
export async function inBatches<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
