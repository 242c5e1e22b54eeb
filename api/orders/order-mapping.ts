import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { OrderEventRow, OrderItemRow, OrderRow } from '../../db/repositories/orders';
import type { OrderStatus, OrderView } from '../../workflows/orders/contracts';
import type { OrderResponse, PlaceOrderBody } from './schemas';

// Fixed namespace for order ids: the same (business, customer, key) always names the same order.
const ORDER_NAMESPACE = '6f1c7c4e-8a53-4f57-9d5e-2b8f3c1a0d42';

export const orderIdFor = (businessId: string, customerId: string, idempotencyKey: string) =>
  uuidv5(`${businessId}/${customerId}/${idempotencyKey}`, ORDER_NAMESPACE);

/** Items merged by product and sorted, so equivalent bodies hash alike. */
export function normaliseItems(items: PlaceOrderBody['items']) {
  const byProduct = new Map<string, number>();
  for (const item of items) byProduct.set(item.productId, (byProduct.get(item.productId) ?? 0) + item.quantity);
  return [...byProduct.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

export function requestHash(body: PlaceOrderBody): string {
  const canonical = JSON.stringify({
    items: normaliseItems(body.items),
    notes: body.notes ?? null,
    pickupName: body.pickupName ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** When the order was paid and by when staff must accept it; both null until it is paid. */
export interface PaymentTimes {
  paidAt: string | null;
  acceptDeadline: string | null;
}

const UNPAID: PaymentTimes = { paidAt: null, acceptDeadline: null };

/**
 * The accept deadline is the workflow's: the payment's time plus the accept timeout (the API's
 * setting, which the order was placed with). Without the timeout only `paidAt` is known.
 */
export const paymentTimes = (row: Pick<OrderRow, 'paidAt'>, acceptTimeoutSeconds?: number): PaymentTimes =>
  row.paidAt
    ? {
        paidAt: row.paidAt.toISOString(),
        acceptDeadline:
          acceptTimeoutSeconds === undefined ? null : new Date(row.paidAt.getTime() + acceptTimeoutSeconds * 1000).toISOString(),
      }
    : UNPAID;

export function fromView(order: OrderView, paid: PaymentTimes = UNPAID): OrderResponse {
  return {
    id: order.orderId,
    businessId: order.businessId,
    customerId: order.customerId,
    status: order.status,
    currency: order.currency,
    items: order.items,
    totalMinor: order.totalMinor,
    notes: order.notes,
    pickupName: order.pickupName,
    placedAt: order.placedAt,
    payment: order.payment,
    paymentId: order.paymentId,
    refundId: order.refundId,
    cancelReason: order.cancelReason,
    ...paid,
  };
}

export function fromRow(row: OrderRow, items: OrderItemRow[], acceptTimeoutSeconds?: number): OrderResponse {
  return {
    id: row.id,
    businessId: row.businessId,
    customerId: row.customerId,
    status: row.status as OrderStatus,
    currency: row.currency,
    items: items.map(({ line: _line, ...item }) => item),
    totalMinor: row.totalMinor,
    notes: row.notes,
    pickupName: row.pickupName,
    placedAt: row.createdAt.toISOString(),
    payment: {
      provider: 'mercadopago',
      amountMinor: row.totalMinor,
      currency: row.currency,
      deadline: row.paymentDeadline.toISOString(),
      preferenceId: row.preferenceId,
      checkoutUrl: row.checkoutUrl,
    },
    paymentId: row.paymentId,
    refundId: row.refundId,
    cancelReason: row.cancelReason,
    ...paymentTimes(row, acceptTimeoutSeconds),
  };
}

export const fromEvent = (event: OrderEventRow) => ({
  seq: event.seq,
  type: event.type,
  fromStatus: event.fromStatus,
  toStatus: event.toStatus,
  data: event.data,
  occurredAt: event.occurredAt.toISOString(),
});
