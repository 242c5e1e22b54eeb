import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import type { WebhooksService } from './webhooks-service';

export function registerWebhookRoutes(api: ApiRoutes, service: WebhooksService): void {
  api.add({
    method: 'post',
    path: '/v1/webhooks/mercadopago',
    operationId: 'mercadopagoWebhook',
    summary: 'MercadoPago notifications (Webhooks signed with x-signature, or IPN ?topic=&id=)',
    tags: ['payments'],
    auth: 'none',
    query: z
      .object({
        'data.id': z.string().max(64).optional().meta({ description: 'Webhook: the resource id (signed)' }),
        type: z.string().max(64).optional().meta({ description: 'Webhook: payment or topic_merchant_order_wh' }),
        topic: z.string().max(64).optional().meta({ description: 'IPN: payment or merchant_order' }),
        id: z.string().max(64).optional().meta({ description: 'IPN: the resource id' }),
      })
      .catchall(z.union([z.string(), z.array(z.string())])),
    headers: z.object({ 'x-signature': z.string().max(512).optional(), 'x-request-id': z.string().max(200).optional() }),
    responses: {
      200: {
        description: 'Stored; the worker hands it to the order (no Temporal call before this answer)',
        schema: z.object({ status: z.enum(['accepted', 'ignored']) }),
      },
      400: { description: 'Not a MercadoPago notification, or an id that is not a MercadoPago id (INVALID_NOTIFICATION)' },
      401: { description: 'INVALID_SIGNATURE, MISSING_SIGNATURE or STALE_SIGNATURE' },
      413: { description: 'Body larger than the limit (PAYLOAD_TOO_LARGE)' },
      415: { description: 'A charset or Content-Encoding the server cannot read (UNSUPPORTED_MEDIA_TYPE)' },
      429: { description: 'Too many unsigned IPN hints from this address (RATE_LIMITED, Retry-After)' },
      503: { description: 'Webhook secret not configured, or Postgres unavailable: MercadoPago will redeliver' },
    },
    handler: async (ctx, { query, headers }) => {
      const result = await service.receive({
        query,
        body: (ctx.request as { body?: unknown }).body,
        signature: headers['x-signature'],
        requestId: headers['x-request-id'],
        ip: ctx.ip,
      });
      return { body: result };
    },
  });
}
