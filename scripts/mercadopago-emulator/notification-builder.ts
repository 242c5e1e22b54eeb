import { randomUUID } from 'node:crypto';
import { mpDate } from './http';
import { signMercadoPagoWebhook } from './signing';

export type NotificationKind = 'webhook' | 'ipn';
export type NotificationTopic = 'payment' | 'merchant_order';
export type SignatureMode = 'valid' | 'bad' | 'stale' | 'missing';

export interface NotificationSpec {
  kind: NotificationKind;
  topic: NotificationTopic;
  /** Webhooks only: `payment.created`, `payment.updated`... */
  action?: string;
  /** The resource id: a payment id or a merchant order id. */
  dataId: string;
  /** The notification_url of the preference (or an explicit target). */
  url: string;
  signature?: SignatureMode;
  staleSeconds?: number;
}

export interface BuildContext {
  secret: string;
  userId: number;
  notificationId: number;
  tsUnit: 'seconds' | 'milliseconds';
  /** Base for IPN `resource` links to merchant orders. */
  publicUrl: string;
  now: number;
}

export interface OutgoingRequest {
  url: string;
  requestId: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * Webhooks ("Webhooks" in Your integrations): POST to notification_url + `?data.id=<id>&type=<type>`,
 * signed with `x-signature`/`x-request-id`. IPN (the legacy channel): POST to
 * notification_url + `?topic=<topic>&id=<id>`, unsigned, with `{ resource, topic }`.
 */
export function buildNotification(spec: NotificationSpec, ctx: BuildContext): OutgoingRequest {
  return spec.kind === 'ipn' ? buildIpn(spec, ctx) : buildWebhook(spec, ctx);
}

function buildWebhook(spec: NotificationSpec, ctx: BuildContext): OutgoingRequest {
  const type = spec.topic === 'merchant_order' ? 'topic_merchant_order_wh' : 'payment';
  const url = withQuery(spec.url, { 'data.id': spec.dataId, type });
  const requestId = randomUUID();
  const body = {
    action: spec.action ?? (spec.topic === 'payment' ? 'payment.updated' : 'update'),
    api_version: 'v1',
    data: { id: spec.dataId },
    date_created: mpDate(ctx.now),
    id: ctx.notificationId,
    live_mode: false,
    type,
    user_id: ctx.userId,
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `MercadoPago WebHook v1.0 ${type}`,
    'x-request-id': requestId,
  };
  const signature = spec.signature ?? 'valid';
  if (signature !== 'missing') headers['x-signature'] = signatureHeader(spec, ctx, requestId, signature);
  return { url, requestId, headers, body };
}

function signatureHeader(spec: NotificationSpec, ctx: BuildContext, requestId: string, mode: SignatureMode): string {
  const ageMs = mode === 'stale' ? (spec.staleSeconds ?? 3600) * 1000 : 0;
  const at = ctx.now - ageMs;
  const ts = ctx.tsUnit === 'milliseconds' ? at : Math.floor(at / 1000);
  // A "bad" signature is a well-formed header signed with the wrong secret, the forgery a receiver must refuse.
  const secret = mode === 'bad' ? `${ctx.secret}-forged` : ctx.secret;
  return signMercadoPagoWebhook({ secret, dataId: spec.dataId, requestId, ts });
}

function buildIpn(spec: NotificationSpec, ctx: BuildContext): OutgoingRequest {
  const url = withQuery(spec.url, { topic: spec.topic, id: spec.dataId });
  const resource = spec.topic === 'merchant_order' ? `${ctx.publicUrl}/merchant_orders/${spec.dataId}` : spec.dataId;
  const requestId = randomUUID();
  return {
    url,
    requestId,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'MercadoPago Feed v2.0 ' + spec.topic,
      'x-request-id': requestId,
    },
    body: { resource, topic: spec.topic },
  };
}

function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
