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

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** What the live feeds are told of a change: sent by the statement that makes it, so never without it. */
export type OrderChange = Record<string, unknown>;

/** An event's values in the column order both statements below insert them: seq, type, from, to, data, when. */
const eventValues = (event: Omit<OrderEventRow, 'orderId'>) => [
  event.seq,
  event.type,
  event.fromStatus,
  event.toStatus,
  JSON.stringify(event.data),
  event.occurredAt,
];

const notifyValues = (notify: OrderChange | undefined) => (notify ? [ORDER_CHANNEL, JSON.stringify(notify)] : []);

/**
 * Inserts the order with its lines and first event, and tells the live feeds, in one statement
 * (one round trip, atomic without a transaction); a second call with the same id changes nothing.
 */
export async function insertOrderIfAbsent(
  db: Executor,
  order: NewOrder,
  items: OrderItemRow[],
  event: Omit<OrderEventRow, 'orderId'>,
  notify?: OrderChange,
): Promise<boolean> {
  const columns = Object.keys(order) as (keyof NewOrder)[];
  const result = await db.raw(
    `with o as (
       insert into orders (${columns.map(snake).join(', ')}) values (${columns.map(() => '?').join(', ')})
       on conflict (id) do nothing returning id
     ), i as (
       insert into order_items (order_id, line, product_id, name, unit_price_minor, quantity, line_total_minor)
       select o.id, x.line, x.product_id, x.name, x.unit_price_minor, x.quantity, x.line_total_minor
       from o cross join jsonb_to_recordset(?::jsonb)
         as x(line int, product_id uuid, name text, unit_price_minor int, quantity int, line_total_minor int)
     ), e as (
       insert into order_events (order_id, seq, type, from_status, to_status, data, occurred_at)
       select o.id, ?, ?, ?, ?, ?::jsonb, ? from o
     )
     select o.id${notify ? ', pg_notify(?, ?)' : ''} from o`,
    [
      ...columns.map((column) => order[column] ?? null),
      JSON.stringify(
        items.map((item) => ({
          line: item.line,
          product_id: item.productId,
          name: item.name,
          unit_price_minor: item.unitPriceMinor,
          quantity: item.quantity,
          line_total_minor: item.lineTotalMinor,
        })),
      ),
      ...eventValues(event),
      ...notifyValues(notify),
    ],
  );
  return result.rows.length > 0;
}

type OrderPatch = Partial<Pick<OrderRow, 'paymentId' | 'refundId' | 'cancelReason' | 'paidAt'>>;

/**
 * Stores one event and, only if it is newer than what the order shows, moves the order to it, and
 * tells the live feeds: one statement, one round trip. Returns false when the event was already
 * stored (a retried activity); then nothing else changes and nobody is told.
 */
export async function appendOrderEvent(
  db: Executor,
  event: OrderEventRow,
  patch: OrderPatch,
  notify?: OrderChange,
): Promise<boolean> {
  const changes = Object.entries(patch).filter(([, value]) => value !== undefined);
  const result = await db.raw(
    `with ins as (
       insert into order_events (order_id, seq, type, from_status, to_status, data, occurred_at)
       values (?, ?, ?, ?, ?, ?::jsonb, ?)
       on conflict (order_id, seq) do nothing returning seq
     ), upd as (
       update orders set ${changes.map(([column]) => `${snake(column)} = ?, `).join('')}status = ?, last_event_seq = ?, updated_at = now()
       where id = ? and last_event_seq < ? and exists (select 1 from ins)
     )
     select seq${notify ? ', pg_notify(?, ?)' : ''} from ins`,
    [
      event.orderId,
      ...eventValues(event),
      ...changes.map(([, value]) => value as string | Date | null),
      event.toStatus,
      event.seq,
      event.orderId,
      event.seq,
      ...notifyValues(notify),
    ],
  );
  return result.rows.length > 0;
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

export const ORDER_CHANNEL = 'order_changes';
