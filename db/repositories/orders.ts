import type { Executor } from '../knex';

/** The read model of orders: written only by the order workflow's activities. */
export interface OrderRow {
  id: string;
  businessId: string;
  customerId: string;
  idempotencyKey: string;
  requestHash: string;
  workflowId: string;
  status: string;
  currency: string;
  totalMinor: number;
  notes: string | null;
  pickupName: string | null;
  paymentDeadline: Date;
  preferenceId: string | null;
  checkoutUrl: string | null;
  paymentId: string | null;
  refundId: string | null;
  cancelReason: string | null;
  lastEventSeq: number;
  paidAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrderItemRow {
  line: number;
  productId: string;
  name: string;
  unitPriceMinor: number;
  quantity: number;
  lineTotalMinor: number;
}

export interface OrderEventRow {
  orderId: string;
  seq: number;
  type: string;
  fromStatus: string | null;
  toStatus: string;
  data: Record<string, unknown>;
  occurredAt: Date;
}

export type NewOrder = Omit<
  OrderRow,
  'preferenceId' | 'checkoutUrl' | 'paymentId' | 'refundId' | 'cancelReason' | 'paidAt' | 'updatedAt'
>;

/** Inserts the order with its lines and first event; a second call with the same id changes nothing. */
export async function insertOrderIfAbsent(
  db: Executor,
  order: NewOrder,
  items: OrderItemRow[],
  event: Omit<OrderEventRow, 'orderId'>,
): Promise<boolean> {
  const inserted = await db('orders').insert(order).onConflict('id').ignore().returning('id');
  if (inserted.length === 0) return false;
  await db('orderItems').insert(items.map((item) => ({ ...item, orderId: order.id })));
  await db('orderEvents').insert({ ...event, orderId: order.id, data: JSON.stringify(event.data) });
  return true;
}

/**
 * Stores one event and, only if it is newer than what the order shows, moves the order to it.
 * Returns false when the event was already stored (a retried activity).
 */
export async function appendOrderEvent(
  db: Executor,
  event: OrderEventRow,
  patch: Partial<Pick<OrderRow, 'paymentId' | 'refundId' | 'cancelReason' | 'paidAt'>>,
): Promise<boolean> {
  const inserted = await db('orderEvents')
    .insert({ ...event, data: JSON.stringify(event.data) })
    .onConflict(['orderId', 'seq'])
    .ignore()
    .returning('seq');
  if (inserted.length === 0) return false;
  await db('orders')
    .where({ id: event.orderId })
    .andWhere('lastEventSeq', '<', event.seq)
    .update({ ...patch, status: event.toStatus, lastEventSeq: event.seq, updatedAt: db.fn.now() });
  return true;
}

export async function attachCheckout(
  db: Executor,
  orderId: string,
  checkout: { preferenceId: string; checkoutUrl: string },
): Promise<void> {
  await db('orders')
    .where({ id: orderId })
    .update({ ...checkout, updatedAt: db.fn.now() });
}

export async function findOrder(db: Executor, id: string): Promise<OrderRow | undefined> {
  return db('orders').where({ id }).first();
}

export async function findOrderItems(db: Executor, orderId: string): Promise<OrderItemRow[]> {
  return db('orderItems')
    .where({ orderId })
    .orderBy('line')
    .select('line', 'productId', 'name', 'unitPriceMinor', 'quantity', 'lineTotalMinor');
}

export async function findOrderEvents(db: Executor, orderId: string): Promise<OrderEventRow[]> {
  return db('orderEvents').where({ orderId }).orderBy('seq');
}

export interface OrderListFilter {
  businessId: string;
  status?: string;
  from?: Date;
  to?: Date;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while orders arrive. */
export async function listOrders(db: Executor, filter: OrderListFilter): Promise<OrderRow[]> {
  const query = db('orders').where({ businessId: filter.businessId });
  if (filter.status) query.andWhere({ status: filter.status });
  if (filter.from) query.andWhere('createdAt', '>=', filter.from);
  if (filter.to) query.andWhere('createdAt', '<', filter.to);
  if (filter.after) {
    query.andWhereRaw('(created_at, id) < (?, ?)', [filter.after.createdAt, filter.after.id]);
  }
  return query
    .orderBy([
      { column: 'createdAt', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(filter.limit);
}

export async function notifyOrderChange(db: Executor, payload: Record<string, unknown>): Promise<void> {
  await db.raw('select pg_notify(?, ?)', [ORDER_CHANNEL, JSON.stringify(payload)]);
}

export const ORDER_CHANNEL = 'order_changes';
