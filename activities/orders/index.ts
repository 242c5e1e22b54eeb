import { ApplicationFailure } from '@temporalio/activity';
import type { Db, Executor } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import { enqueueOrderMail, mailKindFor } from '../mail/order-mail';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { OrderEvent, OrderView } from '../../workflows/orders/contracts';

export interface OrderActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
}

export const OrderDataFailure = 'InvalidOrderData';

/**
 * Postgres data exceptions (class 22: bad encoding, out-of-range values) and check violations
 * (23514) will fail the same way on every retry; they become non-retryable so a workflow never
 * wedges on them. Connection and other errors are rethrown for Temporal to retry.
 */
async function storing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('22') || code === '23514' || code === '54000')) {
      throw ApplicationFailure.nonRetryable(`Postgres refused the order data (${code})`, OrderDataFailure, { code });
    }
    throw error;
  }
}

/**
 * Runs a read-model write that returns whether it stored the event; when the event has a mail,
 * the write and the mail's queueing share a transaction, else the write (one statement) runs alone.
 */
function withOrderMail(db: Db, event: OrderEvent, write: (executor: Executor) => Promise<boolean>): Promise<boolean> {
  if (!mailKindFor(event)) return write(db);
  return db.transaction(async (trx) => {
    const stored = await write(trx);
    if (stored) await enqueueOrderMail(trx, event);
    return stored;
  });
}

const toRow = (event: OrderEvent): orders.OrderEventRow => ({
  orderId: event.orderId,
  seq: event.seq,
  type: event.type,
  fromStatus: event.fromStatus,
  toStatus: event.toStatus,
  data: event.data,
  occurredAt: new Date(event.occurredAt),
});

/**
 * Activities that keep the Postgres read model in step with the order workflow. Each one is a
 * single atomic write (one statement, or a transaction when a mail is queued with it) keyed by
 * (order id, seq): running it twice leaves the same rows.
 */
export function createOrderActivities({ db, metrics }: OrderActivityDeps) {
  return {
    async recordOrderPlaced(input: {
      order: OrderView;
      idempotencyKey: string;
      requestHash: string;
      workflowId: string;
      paymentDeadline: string;
      event: OrderEvent;
    }): Promise<void> {
      const { order, event } = input;
      // Order, lines, first event and the feed's notice in one statement.
      const insert = (executor: Executor) =>
        orders.insertOrderIfAbsent(
          executor,
          {
            id: order.orderId,
            businessId: order.businessId,
            customerId: order.customerId,
            idempotencyKey: input.idempotencyKey,
            requestHash: input.requestHash,
            workflowId: input.workflowId,
            status: order.status,
            currency: order.currency,
            totalMinor: order.totalMinor,
            notes: order.notes,
            pickupName: order.pickupName,
            paymentDeadline: new Date(input.paymentDeadline),
            lastEventSeq: event.seq,
            createdAt: new Date(order.placedAt),
          },
          order.items.map((item, index) => ({ ...item, line: index + 1 })),
          toRow(event),
          { ...eventPayload(event), status: order.status },
        );
      const created = await storing(() => withOrderMail(db, event, insert));
      if (created) {
        metrics.ordersPlaced.inc({ currency: order.currency });
        metrics.orderTransitions.inc({ to: event.toStatus });
      }
    },

    async recordOrderEvent(input: {
      event: OrderEvent;
      totalMinor: number;
      currency: string;
      placedAt: string;
      paymentId: string | null;
      refundId: string | null;
      cancelReason: string | null;
    }): Promise<void> {
      const { event } = input;
      const patch: Parameters<typeof orders.appendOrderEvent>[2] = {};
      if (input.paymentId) patch.paymentId = input.paymentId;
      if (input.refundId) patch.refundId = input.refundId;
      if (input.cancelReason) patch.cancelReason = input.cancelReason;
      if (event.type === 'payment_approved') patch.paidAt = new Date(event.occurredAt);
      const notify = { ...eventPayload(event), status: event.toStatus };
      // The event, the order and the feed's notice are one statement (one round trip for an accept).
      const appended = await storing(() =>
        withOrderMail(db, event, (executor) => orders.appendOrderEvent(executor, toRow(event), patch, notify)),
      );
      if (appended) countEvent(metrics, event, input.totalMinor, input.currency, input.placedAt);
    },
  };
}

const eventPayload = (event: OrderEvent) => ({
  orderId: event.orderId,
  businessId: event.businessId,
  seq: event.seq,
  type: event.type,
  fromStatus: event.fromStatus,
  occurredAt: event.occurredAt,
});

const PAYMENT_RESULTS: Record<string, string> = {
  payment_approved: 'approved',
  payment_rejected: 'rejected',
  refunded: 'refunded',
  payment_refunded: 'refunded',
  payment_charged_back: 'chargeback',
  refund_failed: 'refund_refused',
};

/** Counted only when the event is first stored, so activity retries never double-count. */
function countEvent(metrics: Metrics, event: OrderEvent, totalMinor: number, currency: string, placedAt: string): void {
  if (event.fromStatus !== event.toStatus) metrics.orderTransitions.inc({ to: event.toStatus });
  const result = PAYMENT_RESULTS[event.type];
  if (result) metrics.payments.inc({ result });
  if (event.type === 'payment_approved') {
    metrics.orderValue.inc({ currency }, totalMinor);
    metrics.paymentConfirmation.observe((Date.parse(event.occurredAt) - Date.parse(placedAt)) / 1000);
  }
}
