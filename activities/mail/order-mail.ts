import type { Executor } from '../../db/knex';
import * as mail from '../../db/repositories/mail';
import { findOrderItems } from '../../db/repositories/orders';
import type { OrderEvent } from '../../workflows/orders/contracts';

export type { MailKind } from '../../db/repositories/mail';

/** What a mail's templates read: a snapshot taken when its event was recorded. */
export interface MailPayload {
  orderId: string;
  orderNumber: string;
  cafeName: string;
  customerName: string;
  pickupName: string | null;
  currency: string;
  totalMinor: number;
  items?: { name: string; quantity: number; unitPriceMinor: number; lineTotalMinor: number }[];
  /** cancelled: whether money had been taken (and so is being refunded). */
  paid?: boolean;
  reason?: string | null;
  /** refunded: the amount returned, or null for a payment that was not the order's own. */
  refundedMinor?: number | null;
  paymentId?: string | null;
  occurredAt: string;
}

/** The short number a customer reads out at the counter: the order id's first eight hex digits. */
export const orderNumber = (orderId: string) => orderId.replace(/-/g, '').slice(0, 8).toUpperCase();

/** One id per (order, event, kind): the outbox's key, and the left part of the Message-ID. */
export const mailId = (event: Pick<OrderEvent, 'orderId' | 'seq'>, kind: mail.MailKind) =>
  `order-${event.orderId}-${event.seq}-${kind}`;

/** Mails customers may turn off; receipts and what happened to their money always go out. */
export const OPTIONAL_KINDS: readonly mail.MailKind[] = ['ready'];

/**
 * The one rule for which event sends which mail. `payment_refunded` covers both a reversal of the
 * order's own payment (the order becomes refunded) and the refund of a payment that did not pay it.
 */
export function mailKindFor(event: Pick<OrderEvent, 'type'>): mail.MailKind | undefined {
  switch (event.type) {
    case 'payment_approved':
      return 'receipt';
    case 'ready':
      return 'ready';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'refunded':
    case 'payment_refunded':
      return 'refunded';
    default:
      return undefined;
  }
}

const PAID_STATUSES = new Set(['paid', 'preparing', 'ready']);

function eventDetails(event: OrderEvent, kind: mail.MailKind, context: mail.OrderMailContext): Partial<MailPayload> {
  const data = event.data as { reason?: unknown; paymentId?: unknown };
  const reason = typeof data.reason === 'string' ? data.reason : null;
  const paymentId = typeof data.paymentId === 'string' ? data.paymentId : null;
  if (kind === 'cancelled') return { paid: PAID_STATUSES.has(event.fromStatus ?? ''), reason };
  if (kind === 'expired') return { reason };
  if (kind === 'refunded') {
    // A payment other than the order's own (late, duplicate, wrong amount): its amount is not in the event.
    const ownPayment = event.toStatus === 'refunded' && (paymentId === null || paymentId === context.paymentId);
    return { refundedMinor: ownPayment ? context.totalMinor : null, reason, paymentId };
  }
  return {};
}

/**
 * Queues the customer's mail for an order event, inside the transaction that records the event,
 * so the mail exists exactly when the event does. Idempotent: the outbox key is (order, seq,
 * kind), and a retried activity or a redelivered event inserts nothing new. Events that send no
 * mail cost no query. Sending is the mail relay's job (workers/mail-relay.ts), never the order's.
 */
export async function enqueueOrderMail(trx: Executor, event: OrderEvent): Promise<boolean> {
  const kind = mailKindFor(event);
  if (!kind) return false;
  const context = await mail.findOrderMailContext(trx, event.orderId);
  if (!context) return false;
  if (OPTIONAL_KINDS.includes(kind) && !context.orderUpdatesEmails) return false;
  const items =
    kind === 'receipt'
      ? (await findOrderItems(trx, event.orderId)).map(({ name, quantity, unitPriceMinor, lineTotalMinor }) => ({
          name,
          quantity,
          unitPriceMinor,
          lineTotalMinor,
        }))
      : undefined;
  const payload: MailPayload = {
    orderId: event.orderId,
    orderNumber: orderNumber(event.orderId),
    cafeName: context.cafeName,
    customerName: context.customerName,
    pickupName: context.pickupName,
    currency: context.currency,
    totalMinor: context.totalMinor,
    items,
    ...eventDetails(event, kind, context),
    occurredAt: event.occurredAt,
  };
  return mail.insertMailIfAbsent(trx, {
    id: mailId(event, kind),
    orderId: event.orderId,
    seq: event.seq,
    kind,
    recipient: context.email,
    locale: context.locale,
    payload: payload as unknown as Record<string, unknown>,
  });
}
