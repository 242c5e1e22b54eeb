import type { Db } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { OrderStatus } from '../../workflows/orders/contracts';
import { decidePayment, type OrderPaymentView } from '../../workflows/payments/decision';
import { callProvider } from './failures';
import { refundRemainder } from './index';
import type { MercadoPagoClient, MercadoPagoPayment } from './mercadopago-client';
import { toPaymentUpdate } from './payment-sync';

/**
 * The order as the payment rule sees it. A finished workflow has no refund under way and no memory
 * of earlier notifications: the provider's current status and the order's events stand in for it.
 */
const paymentView = (order: orders.OrderRow): OrderPaymentView => ({
  status: order.status as OrderStatus,
  paymentId: order.paymentId,
  totalMinor: order.totalMinor,
  currency: order.currency,
  refunding: false,
});

/**
 * Money that reaches an order after its workflow has finished, decided by the same rule as a running
 * order (workflows/payments/decision.ts): an approved payment that is not the one that paid the
 * order is refunded (refundRemainder, with the key the workflow would use, so the two paths can
 * never refund twice), and a reversal of the order's own payment is recorded.
 */
export async function settleClosedOrder(
  deps: { db: Db; mercadopago: MercadoPagoClient; logger: Logger; metrics: Metrics },
  order: orders.OrderRow,
  payment: MercadoPagoPayment,
): Promise<void> {
  const decision = decidePayment(paymentView(order), toPaymentUpdate(payment));
  switch (decision.kind) {
    case 'refund':
      await refundLatePayment(deps, order, payment, decision.why);
      return;
    case 'paid':
      // Only a running workflow can take money for an order; with the workflow gone it goes back.
      await refundLatePayment(deps, order, payment, `paid_while_${order.status}`);
      return;
    case 'reversed':
      await recordReversal(deps, order, payment);
      return;
    case 'rejected':
    case 'ignore':
      return;
  }
}

async function refundLatePayment(
  deps: { db: Db; mercadopago: MercadoPagoClient; logger: Logger; metrics: Metrics },
  order: orders.OrderRow,
  payment: MercadoPagoPayment,
  reason: string,
): Promise<void> {
  const { refundId } = await callProvider(() =>
    refundRemainder(deps.mercadopago, payment, { orderId: order.id, amountMinor: payment.amountMinor }),
  );
  deps.logger.info({ orderId: order.id, paymentId: payment.id, refundId }, 'late payment refunded');
  await recordOnClosedOrder(deps, order.id, {
    type: 'payment_refunded',
    toStatus: null,
    data: { paymentId: payment.id, refundId, reason },
  });
}

/** The order's own money went back at the provider: that refund (none for a chargeback) is the order's. */
async function recordReversal(deps: { db: Db; metrics: Metrics }, order: orders.OrderRow, payment: MercadoPagoPayment) {
  const refundId = payment.status === 'refunded' ? (payment.refunds.at(-1)?.id ?? null) : null;
  await recordOnClosedOrder(deps, order.id, {
    type: `payment_${payment.status}`,
    toStatus: 'refunded',
    data: { paymentId: payment.id, paymentStatus: payment.status, refundId },
    patch: refundId ? { refundId } : {},
  });
}

async function recordOnClosedOrder(
  deps: { db: Db; metrics: Metrics },
  orderId: string,
  change: {
    type: string;
    toStatus: string | null;
    data: Record<string, unknown>;
    /** Only for a change that settles the order: a late payment's refund is not the order's refund. */
    patch?: { refundId?: string };
  },
): Promise<void> {
  const appended = await deps.db.transaction(async (trx) => {
    const order = await trx('orders').where({ id: orderId }).forUpdate().first();
    const events = await orders.findOrderEvents(trx, orderId);
    const already = events.some((event) => event.type === change.type && event.data.paymentId === change.data.paymentId);
    if (!order || already) return false;
    const event = {
      orderId,
      seq: order.lastEventSeq + 1,
      type: change.type,
      fromStatus: order.status,
      toStatus: change.toStatus ?? order.status,
      data: change.data,
      occurredAt: new Date(),
    };
    await orders.appendOrderEvent(trx, event, change.patch ?? {}, {
      orderId,
      businessId: order.businessId,
      seq: event.seq,
      type: event.type,
      fromStatus: event.fromStatus,
      status: event.toStatus,
      occurredAt: event.occurredAt.toISOString(),
    });
    return true;
  });
  if (appended) deps.metrics.payments.inc({ result: change.type === 'payment_charged_back' ? 'chargeback' : 'refunded' });
}
