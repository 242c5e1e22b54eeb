import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import { recordNotification } from '../../db/repositories/webhooks';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { notificationWorkflowId, type NotificationTopic } from '../../workflows/payments/contracts';
import type { processPaymentNotification } from '../../workflows/payments/notification-workflow';
import { verifyMercadoPagoSignature } from './mercadopago-signature';

export interface WebhookSettings {
  secret?: string;
  toleranceSeconds: number;
  taskQueue: string;
}

export interface IncomingNotification {
  query: Record<string, string | string[] | undefined>;
  body: unknown;
  signature: string | undefined;
  requestId: string | undefined;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const TOPICS: Record<string, NotificationTopic> = {
  payment: 'payment',
  merchant_order: 'merchant_order',
  topic_merchant_order_wh: 'merchant_order',
};

/** Which resource a notification is about, from the webhook (`data.id`, `type`) or IPN (`id`, `topic`) form. */
function classify(query: IncomingNotification['query'], body: any) {
  const dataId = first(query['data.id']) ?? (body?.data?.id !== undefined ? String(body.data.id) : undefined);
  if (dataId) {
    const type = first(query.type) ?? body?.type;
    return { kind: 'webhook' as const, topic: TOPICS[type as string], resourceId: dataId, type };
  }
  const id = first(query.id);
  const topic = first(query.topic);
  if (id && topic) return { kind: 'ipn' as const, topic: TOPICS[topic], resourceId: id, type: topic };
  return undefined;
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;

export function createWebhooksService(deps: {
  db: Db;
  temporal: Client;
  logger: Logger;
  metrics: Metrics;
  settings: WebhookSettings;
}) {
  const { db, temporal, logger, metrics, settings } = deps;
  const count = (result: string) => metrics.webhookNotifications.inc({ provider: 'mercadopago', result });

  function refuse(result: 'invalid_signature' | 'missing_signature' | 'stale', requestId?: string): never {
    count(result);
    logger.warn({ category: 'security', event: 'webhook_rejected', result, providerRequestId: requestId }, 'webhook rejected');
    const codes = { invalid_signature: 'INVALID_SIGNATURE', missing_signature: 'MISSING_SIGNATURE', stale: 'STALE_SIGNATURE' };
    throw new AppError(401, codes[result], 'The notification signature could not be verified');
  }

  return {
    /**
     * Verifies, records and hands the notification to a workflow, without waiting for it: the
     * provider gets its 200 in milliseconds and the work survives any crash after that.
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
      }
      // Unsigned IPN requests are only a hint: the payment is always fetched from MercadoPago itself.
      if (!what.topic) {
        count('ignored');
        return { status: 'ignored' };
      }
      const notificationId = notificationKey(incoming, what);
      const first_ = await recordNotification(db, {
        id: notificationId,
        provider: 'mercadopago',
        kind: what.kind,
        topic: what.topic,
        resourceId: what.resourceId,
        requestId: incoming.requestId ?? null,
        signed: Boolean(incoming.signature),
        query: incoming.query,
        body: incoming.body,
      });
      count(first_ ? (incoming.signature ? 'valid' : 'unsigned_ipn') : 'duplicate');
      await startProcessing(notificationId, what.topic, what.resourceId);
      return { status: 'accepted' };
    },
  };

  // Started on every delivery: if an earlier delivery was recorded but could not start its
  // workflow, the provider's redelivery does; a workflow that already exists is left alone.
  async function startProcessing(notificationId: string, topic: NotificationTopic, resourceId: string) {
    try {
      await temporal.workflow.start<typeof processPaymentNotification>('processPaymentNotification', {
        workflowId: notificationWorkflowId(notificationId),
        taskQueue: settings.taskQueue,
        args: [{ notificationId, topic, resourceId }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `MercadoPago ${topic} ${resourceId}`,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw error;
    }
  }
}

function notificationKey(incoming: IncomingNotification, what: { kind: string; topic?: string; resourceId: string }): string {
  const bodyId = (incoming.body as { id?: unknown } | undefined)?.id;
  if (what.kind === 'webhook' && (typeof bodyId === 'string' || typeof bodyId === 'number')) return `mp:${bodyId}`;
  return `mp:${what.kind}:${what.topic}:${what.resourceId}:${incoming.requestId ?? 'no-request-id'}`;
}
