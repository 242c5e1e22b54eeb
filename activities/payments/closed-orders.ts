import type { Db } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { asActivityFailure } from './failures';
import { refundRemainder } from './index';
import type { MercadoPagoClient, MercadoPagoPayment } from './mercadopago-client';

const REVERSALS = new Set(['refunded', 'charged_back']);

/**
 * Money that reaches an order after its workflow has finished: an approved payment that is not
 * the one that paid the order is refunded (same idempotency key the workflow would use, so the
 * two paths can never refund twice), and a reversal of the order's own payment is recorded.
 */
export async function settleClosedOrder(
  deps: { db: Db; mercadopago: MercadoPagoClient; logger: Logger; metrics: Metrics },
  order: orders.OrderRow,
  payment: MercadoPagoPayment,
): Promise<void> {
  const own = order.paymentId === payment.id;
  if (payment.status === 'approved' && !own) {
    let refundId: string | null;
    try {
      ({ refundId } = await refundRemainder(deps.mercadopago, payment, { orderId: order.id, amountMinor: payment.amountMinor }));
    } catch (error) {
      throw asActivityFailure(error);
    }
    deps.logger.info({ orderId: order.id, paymentId: payment.id, refundId }, 'late payment refunded');
    await recordOnClosedOrder(deps, order.id, {
      type: 'payment_refunded',
      toStatus: null,
      data: { paymentId: payment.id, refundId, reason: `paid_while_${order.status}` },
    });
    return;
  }
  if (own && REVERSALS.has(payment.status) && order.status !== 'refunded') {
    // The order's own money went back at the provider: that refund (none for a chargeback) is the order's.
    const refundId = payment.status === 'refunded' ? (payment.refunds.at(-1)?.id ?? null) : null;
    await recordOnClosedOrder(deps, order.id, {
      type: `payment_${payment.status}`,
      toStatus: 'refunded',
      data: { paymentId: payment.id, paymentStatus: payment.status, refundId },
      patch: refundId ? { refundId } : {},
    });
  }
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
    await orders.appendOrderEvent(trx, event, change.patch ?? {});
    await orders.notifyOrderChange(trx, {
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
