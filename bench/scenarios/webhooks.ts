import { randomInt, randomUUID } from 'node:crypto';
import { signMercadoPagoWebhook } from '../../scripts/mercadopago-emulator';
import { bearer, measured, orderBody, sleep, type BenchContext } from '../context';
import { atRate, atSaturation, backgroundRate, type Endpoint, type LoadResult } from '../load';
import type { WindowUsage } from '../proc-stats';
import { StatusWatcher } from '../status-watcher';
import { round } from '../stats';
import { placeAndPay } from './end-to-end';

export interface WebhookReport {
  payments: number;
  backgroundPlacementRate: number;
  backgroundStatusCodes: Record<string, number>;
  atRate: LoadResult & { resources: WindowUsage };
  atSaturation: LoadResult & { resources: WindowUsage };
  notificationsRecorded: number;
  notificationsProcessed: number;
  /** From the last POST until every recorded notification's workflow had finished; null if it never did. */
  drainSeconds: number | null;
  /** Notifications processed per second, first receipt to last processing. */
  processedPerSecond: number;
}

/** Signed as MercadoPago signs: each request a new notification (body id) about one of the paid payments. */
function webhookEndpoint(ctx: BenchContext, paymentIds: string[]): Endpoint {
  const secret = ctx.stack.emulator.webhookSecret;
  // Notification ids are the provider's; a random base keeps two runs on one database apart.
  const base = randomInt(1, 2 ** 40) * 1000;
  let n = 0;
  return {
    url: ctx.stack.api.url,
    next: () => {
      n += 1;
      const dataId = paymentIds[n % paymentIds.length]!;
      const requestId = randomUUID();
      const query = new URLSearchParams({ 'data.id': dataId, type: 'payment' });
      return {
        path: `/v1/webhooks/mercadopago?${query}`,
        headers: {
          'content-type': 'application/json',
          'x-request-id': requestId,
          'x-signature': signMercadoPagoWebhook({ secret, dataId, requestId }),
        },
        body: JSON.stringify({
          id: base + n,
          type: 'payment',
          action: 'payment.updated',
          api_version: 'v1',
          data: { id: dataId },
          live_mode: false,
        }),
      };
    },
  };
}

function placementLoad(ctx: BenchContext): Endpoint {
  const headers = bearer(ctx.seed.customerToken);
  const body = JSON.stringify(orderBody(ctx.seed));
  let n = 0;
  return {
    url: ctx.stack.api.url,
    next: () => ({
      path: `/v1/businesses/${ctx.seed.cafeId}/orders`,
      headers: { ...headers, 'idempotency-key': `bench-bg-${ctx.runId}-${++n}` },
      body,
    }),
  };
}

async function drain(ctx: BenchContext, since: Date, timeoutMs: number) {
  const loadEnded = Date.now();
  const deadline = loadEnded + timeoutMs;
  const count = () =>
    ctx.stack
      .db('webhookNotifications')
      .where('receivedAt', '>=', since)
      .first(
        ctx.stack.db.raw('count(*)::int as recorded'),
        ctx.stack.db.raw('count(processed_at)::int as processed'),
        ctx.stack.db.raw('extract(epoch from max(processed_at) - min(received_at))::float as seconds'),
      );
  let state = await count();
  while (state.processed < state.recorded && Date.now() < deadline) {
    await sleep(250);
    state = await count();
  }
  const drained = state.processed === state.recorded;
  return {
    notificationsRecorded: state.recorded as number,
    notificationsProcessed: state.processed as number,
    drainSeconds: drained ? round((Date.now() - loadEnded) / 1000, 1) : null,
    processedPerSecond: state.seconds > 0 ? round(state.processed / state.seconds, 1) : 0,
  };
}

/**
 * Signed webhook POSTs at a fixed rate, then at saturation, while placements keep the worker
 * busy. The acknowledgement is what MercadoPago waits on: verify, record, start a workflow.
 */
export async function webhookScenario(ctx: BenchContext): Promise<WebhookReport> {
  const { options } = ctx;
  ctx.log(`webhooks: paying ${options.webhookPayments} orders for the notifications to point at`);
  const watcher = new StatusWatcher(ctx.stack.db);
  const deadline = Date.now() + 120_000;
  const paid = await Promise.all(
    Array.from({ length: options.webhookPayments }, (_, i) => placeAndPay(ctx, watcher, `bench-wh-${ctx.runId}-${i}`, deadline)),
  );
  const endpoint = webhookEndpoint(
    ctx,
    paid.map((order) => order.paymentId),
  );
  const since = new Date();
  const seconds = options.durationSeconds;
  const background = backgroundRate(placementLoad(ctx), options.backgroundRate, 2 * seconds + 60);
  let rate: WebhookReport['atRate'];
  let saturation: WebhookReport['atSaturation'];
  let backgroundStatusCodes: Record<string, number>;
  try {
    ctx.log(`webhooks: ${options.webhookRate}/s for ${seconds} s, placements at ${options.backgroundRate}/s meanwhile`);
    const a = await measured(ctx, () => atRate(endpoint, options.webhookRate, seconds));
    rate = { ...a.result, resources: a.resources };
    ctx.log(`webhooks: saturation (${options.saturationConnections} connections)`);
    const b = await measured(ctx, () => atSaturation(endpoint, options.saturationConnections, seconds));
    saturation = { ...b.result, resources: b.resources };
  } finally {
    backgroundStatusCodes = await background.stop();
  }
  ctx.log('webhooks: waiting for the notification workflows to catch up');
  return {
    payments: paid.length,
    backgroundPlacementRate: options.backgroundRate,
    backgroundStatusCodes,
    atRate: rate,
    atSaturation: saturation,
    ...(await drain(ctx, since, options.quick ? 60_000 : 300_000)),
  };
}
