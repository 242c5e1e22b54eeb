import { randomInt, randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { signMercadoPagoWebhook, type RequestLogEntry } from '../../scripts/mercadopago-emulator';
import { detailsQuery, orderWorkflowId } from '../../workflows/orders/contracts';
import { notificationKey } from '../../api/webhooks/webhooks-service';
import type { TestUser } from './fixtures';
import type { HttpClient } from './http';
import { emulatorControl, eventually } from './orders';
import type { TestStack } from './stack';

/** Payment flows as seen from outside: our API, our database and the emulator's own records. */

export interface OrderEventView {
  seq: number;
  type: string;
  fromStatus: string | null;
  toStatus: string;
  data: Record<string, any>;
}

export interface OrderDetail {
  id: string;
  businessId: string;
  status: string;
  totalMinor: number;
  paymentId: string | null;
  refundId: string | null;
  cancelReason: string | null;
  payment: { preferenceId: string; checkoutUrl: string; deadline: string };
  events: OrderEventView[];
}

export async function getOrder(api: HttpClient, user: TestUser, orderId: string): Promise<OrderDetail> {
  const response = await api.get(`/v1/orders/${orderId}`, { token: user.token });
  if (response.status !== 200) throw new Error(`GET order ${orderId}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as OrderDetail;
}

export const eventTypes = (order: OrderDetail) => order.events.map((event) => event.type);

/** Polls the order until `predicate` holds; fails with the last order seen. */
export function orderWhere(
  api: HttpClient,
  user: TestUser,
  orderId: string,
  predicate: (order: OrderDetail) => boolean,
  timeoutMs?: number,
): Promise<OrderDetail> {
  return eventually(() => getOrder(api, user, orderId), predicate, timeoutMs);
}

/** The emulator's request log for one kind of call, oldest first. */
export function providerCalls(stack: TestStack, method: string, path: RegExp): RequestLogEntry[] {
  return stack.emulator.requests().filter((entry) => entry.method === method && path.test(entry.path));
}

export const preferenceCreates = (stack: TestStack, orderId: string) =>
  providerCalls(stack, 'POST', /^\/checkout\/preferences\/?$/).filter(
    (entry) => (entry.body as { external_reference?: string }).external_reference === orderId,
  );

export const refundCalls = (stack: TestStack, paymentId: string | number) =>
  providerCalls(stack, 'POST', new RegExp(`^/v1/payments/${paymentId}/refunds/?$`));

export const paymentGets = (stack: TestStack, paymentId: string | number) =>
  providerCalls(stack, 'GET', new RegExp(`^/v1/payments/${paymentId}/?$`));

async function providerGet(stack: TestStack, path: string): Promise<any> {
  const response = await fetch(`${stack.emulator.url}${path}`, {
    headers: { authorization: `Bearer ${stack.emulator.accessTokens[0]}` },
  });
  if (!response.ok) throw new Error(`emulator GET ${path}: ${response.status}`);
  return response.json();
}

/** Refunds that exist at the provider for a payment, whoever asked for them. */
export const refundsAtProvider = (stack: TestStack, paymentId: string | number): Promise<{ id: number; amount: number }[]> =>
  providerGet(stack, `/v1/payments/${paymentId}/refunds`);

export const paymentAtProvider = (
  stack: TestStack,
  paymentId: string | number,
): Promise<{ id: number; status: string; order: { id: number } }> => providerGet(stack, `/v1/payments/${paymentId}`);

/** Every payment the provider holds for an order, oldest first. */
export async function paymentsOfOrder(stack: TestStack, orderId: string): Promise<{ id: number; status: string }[]> {
  const page = await providerGet(stack, `/v1/payments/search?external_reference=${orderId}&criteria=asc&limit=100`);
  return page.results;
}

export interface ApiFault {
  status?: number;
  delayMs?: number;
  times?: number;
  pathPattern?: string;
  method?: string;
}

export const injectApiFault = (stack: TestStack, fault: ApiFault) => emulatorControl(stack, 'faults/api', fault);

export interface NotificationFault {
  type: 'drop' | 'duplicate' | 'delay' | 'bad_signature' | 'stale_timestamp' | 'hold';
  times?: number;
  copies?: number;
  delayMs?: number;
  ageSeconds?: number;
}

export const injectNotificationFault = (stack: TestStack, fault: NotificationFault) =>
  emulatorControl(stack, 'faults/notifications', fault);

export const clearFaults = (stack: TestStack) =>
  fetch(`${stack.emulator.url}/__emulator/faults`, { method: 'DELETE' }).then((response) => response.json());

export const releaseHeld = (stack: TestStack, order: 'fifo' | 'reverse' | 'shuffle' = 'shuffle') =>
  emulatorControl(stack, 'notifications/release', { order });

/** Back office: the provider changes a payment's status (pending → approved, charged_back...) and notifies. */
export const setPaymentStatus = (stack: TestStack, paymentId: string | number, status: string) =>
  emulatorControl(stack, `payments/${paymentId}/status`, { status });

/** Back office: a refund made at the provider, not through our API. */
export const refundAtProvider = (stack: TestStack, paymentId: string | number) =>
  emulatorControl(stack, `payments/${paymentId}/refunds`, {});

/** An on-demand notification from the emulator, answered once our endpoint has replied. */
export const sendNotification = (
  stack: TestStack,
  body: { id: string | number; kind?: 'webhook' | 'ipn'; topic?: 'payment' | 'merchant_order'; signature?: string },
) => emulatorControl(stack, 'notifications/send', body);

export type SignatureMode = 'valid' | 'forged' | 'stale' | 'missing';

/**
 * Posts a webhook straight to our endpoint, shaped and signed as MercadoPago does (or not, to
 * play an attacker). Returns the notification id our service derives from it.
 */
export async function postWebhook(
  stack: TestStack,
  api: HttpClient,
  options: { dataId: string; type?: string; signature?: SignatureMode },
) {
  const bodyId = randomInt(1, 2 ** 47);
  const requestId = randomUUID();
  const type = options.type ?? 'payment';
  const mode = options.signature ?? 'valid';
  const ts = Math.floor(Date.now() / 1000) - (mode === 'stale' ? 3600 : 0);
  const secret = mode === 'forged' ? `${stack.emulator.webhookSecret}-forged` : stack.emulator.webhookSecret;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (mode !== 'missing') headers['x-signature'] = signMercadoPagoWebhook({ secret, dataId: options.dataId, requestId, ts });
  const query = new URLSearchParams({ 'data.id': options.dataId, type });
  const started = Date.now();
  const response = await api.post(
    `/v1/webhooks/mercadopago?${query}`,
    { id: bodyId, type, action: 'payment.updated', api_version: 'v1', data: { id: options.dataId }, live_mode: false },
    { headers },
  );
  const topic = type === 'topic_merchant_order_wh' ? 'merchant_order' : 'payment';
  const notificationId = notificationKey({ kind: 'webhook', topic, resourceId: options.dataId }, requestId, DEDUPE);
  return { response, elapsedMs: Date.now() - started, notificationId };
}

const DEDUPE = { windowSeconds: 60 };

/** The row our service stores a notification the emulator sent under. */
export const emulatedNotificationKey = (n: { kind: 'webhook' | 'ipn'; topic: string; dataId: string; requestId: string }) =>
  notificationKey({ kind: n.kind, topic: n.topic, resourceId: n.dataId }, n.requestId, DEDUPE);

export const notificationRow = (stack: TestStack, id: string) => stack.db('webhookNotifications').where({ id }).first();

/** Payment and merchant-order ids can coincide, so the topic is part of the lookup. */
export const notificationRowsFor = (stack: TestStack, resourceId: string | number, topic = 'payment') =>
  stack.db('webhookNotifications').where({ topic, resourceId: String(resourceId) });

/** Waits until every notification recorded about these payments has been processed. */
export async function notificationsProcessed(stack: TestStack, resourceIds: (string | number)[]) {
  await stack.emulator.idle();
  return eventually(
    () => stack.db('webhookNotifications').where({ topic: 'payment' }).whereIn('resourceId', resourceIds.map(String)),
    (rows) => rows.every((row: { processedAt: Date | null }) => row.processedAt !== null),
  );
}

export async function workflowStatus(stack: TestStack, workflowId: string): Promise<string | undefined> {
  try {
    return (await stack.client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Workflow executions started on the stack's task queue since `since`, by type: the engine work webhooks caused. */
export async function executionsSince(stack: TestStack, since: Date): Promise<string[]> {
  const query = `TaskQueue = '${stack.taskQueue}' AND StartTime >= '${since.toISOString()}'`;
  const types: string[] = [];
  for await (const execution of stack.client.workflow.list({ query })) types.push(execution.type);
  return types;
}

/**
 * The order once its workflow has caught up: every signal handled (a query sees them all), every
 * event it made stored, no activity or workflow task in flight. Notifications still being delivered are awaited first.
 */
export async function settledOrder(stack: TestStack, api: HttpClient, user: TestUser, orderId: string): Promise<OrderDetail> {
  await stack.emulator.idle();
  const { businessId } = await getOrder(api, user, orderId);
  const handle = stack.client.workflow.getHandle(orderWorkflowId(businessId, orderId));
  const settled = await eventually(
    async () => {
      const [view, description] = await Promise.all([handle.query(detailsQuery), handle.describe()]);
      const { pendingActivities, pendingWorkflowTask } = description.raw;
      const idle = description.status.name !== 'RUNNING' || ((pendingActivities ?? []).length === 0 && !pendingWorkflowTask);
      return { idle, seq: view.seq, order: await getOrder(api, user, orderId) };
    },
    // The closed-order path may append events after the workflow's last one, hence >=.
    (state) => state.idle && state.order.events.length >= state.seq,
  );
  return settled.order;
}

/** Events that moved money back for one payment: the order's own refund or a late/duplicate one. */
export const refundEventsFor = (order: OrderDetail, paymentId: string | number) =>
  order.events.filter(
    (event) => ['refunded', 'payment_refunded'].includes(event.type) && event.data.paymentId === String(paymentId),
  );
