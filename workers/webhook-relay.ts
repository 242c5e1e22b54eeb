import { isMercadoPagoApiError } from '../activities/payments/mercadopago-client';
import { createPaymentSync, type PaymentSyncDeps } from '../activities/payments/payment-sync';
import * as webhooks from '../db/repositories/webhooks';
import type { NotificationTopic } from '../workflows/payments/contracts';
import { startRelayLoop } from './relay-loop';

export interface RelaySettings {
  databaseUrl: string;
  /** Rows claimed per round; notifications about one resource in a round share one provider fetch. */
  batchSize?: number;
  /** How long a claim holds its rows: past it, another relay takes them over (this one died). */
  leaseSeconds?: number;
  /** The poll that catches what LISTEN missed (a reconnect) and rows whose retry became due. */
  pollIntervalMs?: number;
  /** Resources handed over at once. */
  concurrency?: number;
}

export interface WebhookRelay {
  stop(): Promise<void>;
}

/** Back off 2, 4, 8 ... seconds, to 5 minutes: MercadoPago or Temporal being down only delays. */
const retryDelaySeconds = (attempts: number) => Math.min(300, 2 ** Math.min(attempts, 9));

/**
 * Hands stored MercadoPago notifications to their orders: off the webhook's acknowledgement, and
 * off the engine (no workflow per notification). The API commits a row and answers 200; this loop,
 * in the worker process, claims pending rows with a lease, fetches each payment once per round
 * however many notifications name it, signals the order workflow, and marks the rows processed. A
 * crash of either process, a Temporal outage or a provider outage leaves the rows pending, to be
 * taken again when their lease or backoff passes: nothing recorded stays unprocessed.
 */
export function startWebhookRelay(deps: PaymentSyncDeps, settings: RelaySettings): WebhookRelay {
  const { db, logger, metrics } = deps;
  const batchSize = settings.batchSize ?? 50;
  const leaseSeconds = settings.leaseSeconds ?? 60;
  const pollIntervalMs = settings.pollIntervalMs ?? 1_000;
  const concurrency = settings.concurrency ?? 8;
  const sync = createPaymentSync(deps);
  async function handOver(group: webhooks.PendingNotification[]): Promise<void> {
    const { topic, resourceId } = group[0]!;
    const ids = group.map((row) => row.id);
    try {
      const payments = await sync.paymentsOf(topic as NotificationTopic, resourceId);
      const outcomes: string[] = [];
      for (const paymentId of payments) {
        const result = await sync.syncPayment(paymentId);
        outcomes.push(`${result.paymentId}:${result.outcome}`);
        metrics.webhookRelay.inc({ outcome: result.outcome });
      }
      await webhooks.markNotificationsProcessed(db, ids, outcomes.join(',') || 'no_payments');
    } catch (error) {
      if (isMercadoPagoApiError(error) && !error.retryable) {
        // A 4xx that will not change (an unknown payment id): done, with the reason kept.
        metrics.webhookRelay.inc({ outcome: 'provider_rejected' });
        logger.warn({ topic, resourceId, status: error.status }, 'notification names a resource the provider refuses');
        await webhooks.markNotificationsProcessed(db, ids, `provider_rejected:${error.status ?? 'unknown'}`);
        return;
      }
      const attempts = Math.max(...group.map((row) => row.attempts));
      metrics.webhookRelay.inc({ outcome: 'retry' });
      logger.warn({ err: error, topic, resourceId, attempts }, 'notification hand-over failed; retrying later');
      await webhooks.retryNotificationsLater(db, ids, String(error), retryDelaySeconds(attempts));
    }
  }

  async function round(): Promise<boolean> {
    const claimed = await webhooks.claimPendingNotifications(db, { limit: batchSize, leaseSeconds });
    const groups = new Map<string, webhooks.PendingNotification[]>();
    for (const row of claimed) {
      const key = `${row.topic}:${row.resourceId}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const queue = [...groups.values()];
    const lanes = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) await handOver(group);
    });
    await Promise.all(lanes);
    return claimed.length === batchSize;
  }

  async function reportBacklog() {
    const stats = await webhooks.pendingNotificationStats(db);
    metrics.webhookRelayBacklog.set(stats.pending);
    metrics.webhookRelayOldestSeconds.set(stats.oldestSeconds);
  }

  const loop = startRelayLoop({
    name: 'webhook-relay',
    databaseUrl: settings.databaseUrl,
    channel: webhooks.NOTIFICATION_CHANNEL,
    pollIntervalMs,
    reportEveryMs: 10_000,
    round,
    reportBacklog,
    logger,
  });

  return {
    async stop() {
      loop.halt();
      await loop.finished;
      await loop.close();
    },
  };
}
