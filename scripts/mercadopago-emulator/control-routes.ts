import { asRecord, badRequest } from './http';
import { decimalToMinor } from './money';
import type { NotificationKind, NotificationTopic, SignatureMode } from './notification-builder';
import type { ReleaseOrder } from './notifier';
import { renderPayment, renderRefund } from './render';
import { route, type Reply, type RequestContext, type Route } from './router';
import type { EmulatorState } from './state';
import { PAYMENT_STATUSES, type PaymentStatus } from './types';

/**
 * `/__emulator/*`: what tests and the demo use to play the buyer, the provider's back office and
 * a misbehaving network. Not part of MercadoPago's contract; no access token needed.
 */
export function controlRoutes(state: EmulatorState): Route[] {
  const base = '^/__emulator';
  const r = (method: string, path: string, handler: (ctx: RequestContext) => Reply | Promise<Reply>): Route =>
    route(method, new RegExp(`${base}${path}/?$`), handler);
  return [
    r('GET', '/health', () => ok({ status: 'ok' })),
    r('POST', '/preferences/([^/]+)/pay', (ctx) => pay(state, ctx)),
    r('POST', '/payments/([^/]+)/status', (ctx) => changeStatus(state, ctx)),
    r('POST', '/payments/([^/]+)/refunds', (ctx) => providerRefund(state, ctx)),
    r('POST', '/notifications/send', (ctx) => sendNotification(state, ctx)),
    r('POST', '/notifications/release', (ctx) => release(state, ctx)),
    r('GET', '/notifications', () => ok({ notifications: state.notifier.records(), held: state.notifier.heldCount() })),
    r('GET', '/requests', (ctx) => ok({ requests: filterRequests(state, ctx.url.searchParams) })),
    r('POST', '/faults/api', (ctx) => ({ status: 201, body: { fault: state.apiFaults.add(ctx.body) } })),
    r('POST', '/faults/notifications', (ctx) => ({ status: 201, body: { fault: state.notifier.faults.add(ctx.body) } })),
    r('GET', '/faults', () => ok({ api: state.apiFaults.list(), notifications: state.notifier.faults.list() })),
    r('DELETE', '/faults', () => clearFaults(state)),
    r('POST', '/config', (ctx) => configure(state, ctx)),
    r('POST', '/reset', () => {
      state.reset();
      return ok({ reset: true });
    }),
  ];
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const param = (ctx: RequestContext): string => ctx.params[0] ?? '';

function parseStatus(value: unknown): PaymentStatus {
  if (!PAYMENT_STATUSES.includes(value as PaymentStatus)) {
    throw badRequest(`status must be one of ${PAYMENT_STATUSES.join(', ')}`, 'invalid_status');
  }
  return value as PaymentStatus;
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function pay(state: EmulatorState, ctx: RequestContext): Reply {
  const body = asRecord(ctx.body);
  const payment = state.store.pay(param(ctx), {
    status: parseStatus(body.status ?? 'approved'),
    statusDetail: optionalString(body.status_detail),
    paymentMethodId: optionalString(body.payment_method_id),
    paymentTypeId: optionalString(body.payment_type_id),
    payerEmail: optionalString(body.payer_email),
  });
  state.notifyPayment(payment, 'payment.created');
  return { status: 201, body: renderPayment(payment, state.render) };
}

function changeStatus(state: EmulatorState, ctx: RequestContext): Reply {
  const body = asRecord(ctx.body);
  const payment = state.store.setPaymentStatus(param(ctx), parseStatus(body.status), optionalString(body.status_detail));
  state.notifyPayment(payment, 'payment.updated');
  return ok(renderPayment(payment, state.render));
}

function providerRefund(state: EmulatorState, ctx: RequestContext): Reply {
  const body = asRecord(ctx.body);
  const currency = state.store.getPayment(param(ctx)).currencyId;
  const amountMinor = body.amount === undefined ? undefined : decimalToMinor(body.amount, currency);
  if (body.amount !== undefined && !amountMinor) throw badRequest('amount invalid', 'invalid_refund_amount');
  const refund = state.store.refund(param(ctx), amountMinor, 'admin');
  const payment = state.store.getPayment(refund.paymentId);
  state.notifyPayment(payment, 'payment.updated');
  return { status: 201, body: { refund: renderRefund(refund, state.render), payment: renderPayment(payment, state.render) } };
}

/** On-demand notification; waits for its delivery so the caller can assert on the attempts. */
async function sendNotification(state: EmulatorState, ctx: RequestContext): Promise<Reply> {
  const body = asRecord(ctx.body);
  const kind = (body.kind ?? 'webhook') as NotificationKind;
  const topic = (body.topic ?? 'payment') as NotificationTopic;
  const signature = (body.signature ?? 'valid') as SignatureMode;
  if (!['webhook', 'ipn'].includes(kind)) throw badRequest('kind must be webhook or ipn');
  if (!['payment', 'merchant_order'].includes(topic)) throw badRequest('topic must be payment or merchant_order');
  if (!['valid', 'bad', 'stale', 'missing'].includes(signature))
    throw badRequest('signature must be valid, bad, stale or missing');
  if (body.id === undefined) throw badRequest('id (the payment or merchant order id) is required');
  const dataId = String(body.id);
  const url = optionalString(body.url) ?? defaultUrl(state, topic, dataId);
  const records = await state.notifier.notify(
    {
      kind,
      topic,
      dataId,
      url,
      action: optionalString(body.action),
      signature,
      staleSeconds: body.staleSeconds === undefined ? undefined : Number(body.staleSeconds),
    },
    true,
  );
  return { status: 202, body: { notifications: records } };
}

function defaultUrl(state: EmulatorState, topic: NotificationTopic, id: string): string {
  const own = topic === 'payment' ? state.store.getPayment(id).notificationUrl : state.store.getMerchantOrder(id).notificationUrl;
  const url = own ?? state.settings.defaultNotificationUrl;
  if (!url) throw badRequest('no notification_url on the resource; pass url');
  return url;
}

async function release(state: EmulatorState, ctx: RequestContext): Promise<Reply> {
  const order = (asRecord(ctx.body).order ?? 'shuffle') as ReleaseOrder;
  if (!['fifo', 'reverse', 'shuffle'].includes(order)) throw badRequest('order must be fifo, reverse or shuffle');
  return ok({ released: await state.notifier.release(order) });
}

function clearFaults(state: EmulatorState): Reply {
  state.apiFaults.clear();
  state.notifier.faults.clear();
  return ok({ cleared: true });
}

function configure(state: EmulatorState, ctx: RequestContext): Reply {
  const body = asRecord(ctx.body);
  if (typeof body.deliverNotifications !== 'boolean') throw badRequest('deliverNotifications must be a boolean');
  state.notifier.setDelivery(body.deliverNotifications);
  return ok({ deliverNotifications: body.deliverNotifications });
}

function filterRequests(state: EmulatorState, query: URLSearchParams): unknown[] {
  const path = query.get('path');
  const method = query.get('method')?.toUpperCase();
  const pattern = path ? regExpOrBadRequest(path) : undefined;
  return state.requestLog.filter((e) => (!pattern || pattern.test(e.path)) && (!method || e.method === method));
}

function regExpOrBadRequest(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    throw badRequest('path is not a valid RegExp');
  }
}
