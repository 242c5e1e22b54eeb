import type { Db } from '../../db/knex';
import { recordNotification } from '../../db/repositories/webhooks';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { NotificationTopic } from '../../workflows/payments/contracts';
import { windowCounter } from '../http/rate-limit';
import { verifyMercadoPagoSignature } from './mercadopago-signature';

export interface WebhookSettings {
  secret?: string;
  toleranceSeconds: number;
  /** Unsigned IPN hints accepted per client IP and minute. */
  unsignedPerMinute: number;
  /** Hints about one resource within this window are one stored row, so one provider fetch. */
  unsignedDedupeSeconds: number;
}

export interface IncomingNotification {
  query: Record<string, string | string[] | undefined>;
  body: unknown;
  signature: string | undefined;
  requestId: string | undefined;
  ip: string;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const TOPICS: Record<string, NotificationTopic> = {
  payment: 'payment',
  merchant_order: 'merchant_order',
  topic_merchant_order_wh: 'merchant_order',
};
// Own properties only: `topic=constructor` must not find Object.prototype's.
const topicOf = (type: unknown) => (typeof type === 'string' && Object.hasOwn(TOPICS, type) ? TOPICS[type] : undefined);

/** MercadoPago's payment and merchant-order ids are numbers; anything else was not sent by them. */
const RESOURCE_ID = /^\d{1,20}$/;

type Classified = { kind: 'webhook' | 'ipn'; topic: NotificationTopic | undefined; resourceId: string };

/** Which resource a notification is about, from the webhook (`data.id`, `type`) or IPN (`id`, `topic`) form. */
function classify(query: IncomingNotification['query'], body: any): Classified | undefined {
  const dataId = first(query['data.id']) ?? (body?.data?.id !== undefined ? String(body.data.id) : undefined);
  if (dataId) return { kind: 'webhook', topic: topicOf(first(query.type) ?? body?.type), resourceId: dataId };
  const id = first(query.id);
  const topic = first(query.topic);
  if (id && topic) return { kind: 'ipn', topic: topicOf(topic), resourceId: id };
  return undefined;
}

/**
 * The row a notification is stored under. Signed: the signed values (data.id and x-request-id,
 * which MercadoPago keeps across redeliveries), so a replayed request cannot mint new rows.
 * Unsigned: topic and id per dedupe window, so a flood of hints is one row, one provider fetch.
 */
export function notificationKey(
  what: { kind: 'webhook' | 'ipn'; topic: string; resourceId: string },
  requestId: string | undefined,
  options: { windowSeconds: number; nowMs?: number },
): string {
  if (what.kind === 'webhook') return `mp:webhook:${what.topic}:${what.resourceId}:${requestId ?? ''}`;
  const window = Math.floor((options.nowMs ?? Date.now()) / 1000 / options.windowSeconds);
  return `mp:ipn:${what.topic}:${what.resourceId}:${window}`;
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;

export function createWebhooksService(deps: { db: Db; logger: Logger; metrics: Metrics; settings: WebhookSettings }) {
  const { db, logger, metrics, settings } = deps;
  const count = (result: string) => metrics.webhookNotifications.inc({ provider: 'mercadopago', result });
  const unsignedHits = windowCounter(settings.unsignedPerMinute);

  function refuse(result: 'invalid_signature' | 'missing_signature' | 'stale', requestId?: string): never {
    count(result);
    logger.warn({ category: 'security', event: 'webhook_rejected', result, providerRequestId: requestId }, 'webhook rejected');
    const codes = { invalid_signature: 'INVALID_SIGNATURE', missing_signature: 'MISSING_SIGNATURE', stale: 'STALE_SIGNATURE' };
    throw new AppError(401, codes[result], 'The notification signature could not be verified');
  }

  function throttleUnsigned(ip: string): void {
    const hit = unsignedHits(ip);
    if (!hit.limited) return;
    count('rate_limited');
    metrics.rateLimitRejections.inc({ scope: 'webhook_unsigned' });
    throw new AppError(429, 'RATE_LIMITED', `Too many unsigned notifications; retry in ${hit.resetSeconds} s`, undefined, {
      'Retry-After': String(hit.resetSeconds),
    });
  }

  return {
    /**
     * Verifies and stores the notification, and answers: no Temporal call on this path, so the
     * provider's acknowledgement costs one insert. The relay in the worker hands it over.
     */
    async receive(incoming: IncomingNotification): Promise<{ status: 'accepted' | 'ignored' }> {
      if (!settings.secret) throw new AppError(503, 'WEBHOOKS_NOT_CONFIGURED', 'MERCADOPAGO_WEBHOOK_SECRET is not set');
      const what = classify(incoming.query, incoming.body);
      if (!what) throw new AppError(400, 'INVALID_NOTIFICATION', 'Expected data.id and type, or id and topic');
      if (incoming.signature) {
        const check = verifyMercadoPagoSignature({
          header: incoming.signature,
          requestId: incoming.requestId,
          dataId: first(incoming.query['data.id']),
          secret: settings.secret,
          toleranceSeconds: settings.toleranceSeconds,
        });
        if (check !== 'valid') refuse(check, incoming.requestId);
      } else if (what.kind === 'webhook') {
        refuse('missing_signature', incoming.requestId);
      } else {
        // Unsigned IPN requests are only a hint (the payment is always fetched), and cost us a fetch: bounded.
        throttleUnsigned(incoming.ip);
      }
      if (!what.topic) {
        count('ignored');
        return { status: 'ignored' };
      }
      if (!RESOURCE_ID.test(what.resourceId)) {
        count('invalid_id');
        throw new AppError(400, 'INVALID_NOTIFICATION', 'The resource id is not a MercadoPago id');
      }
      const signed = Boolean(incoming.signature);
      const stored = await recordNotification(db, {
        id: notificationKey({ ...what, topic: what.topic }, incoming.requestId, {
          windowSeconds: settings.unsignedDedupeSeconds,
        }),
        provider: 'mercadopago',
        kind: what.kind,
        topic: what.topic,
        resourceId: what.resourceId,
        requestId: incoming.requestId?.slice(0, 200) ?? null,
        signed,
        query: incoming.query,
        // An unsigned hint's body says nothing we would read: only the signed ones are kept.
        body: signed ? incoming.body : null,
      });
      count(stored ? (signed ? 'valid' : 'unsigned_ipn') : 'duplicate');
      return { status: 'accepted' };
    },
  };
}
