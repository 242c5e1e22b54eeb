import type { OrderStatus, PaymentUpdate } from '../orders/contracts';
import { TERMINAL_STATUSES } from '../orders/contracts';

/**
 * What a provider payment status means for an order: the one rule, used by the order workflow
 * (a running order) and by the webhook relay's settlement of orders whose workflow has finished.
 * Pure and deterministic, so the workflow bundle can import it.
 */
export type PaymentDecision =
  | { kind: 'ignore'; why: string }
  | { kind: 'paid' }
  | { kind: 'rejected' }
  | { kind: 'refund'; why: string }
  | { kind: 'reversed'; why: string };

export interface OrderPaymentView {
  status: OrderStatus;
  /** The payment that paid the order, if one did. */
  paymentId: string | null;
  totalMinor: number;
  currency: string;
  /** The most settled status already seen for this payment id, if any. */
  previousStatus?: string;
  /** A refund of this payment is already under way. */
  refunding: boolean;
}

/**
 * Notifications can repeat and arrive out of order; the provider's own status (fetched, never
 * taken from the webhook body) decides.
 */
export function decidePayment(order: OrderPaymentView, update: PaymentUpdate): PaymentDecision {
  const ours = order.paymentId === update.paymentId;
  const previous = order.previousStatus;
  if (update.status === 'refunded' || update.status === 'charged_back') {
    // A refund of ours already under way settles the order itself once it completes.
    if (ours && order.status !== 'refunded' && !order.refunding) return { kind: 'reversed', why: update.status };
    return { kind: 'ignore', why: 'reversal of a payment that does not settle this order' };
  }
  if (update.status === 'approved') {
    // `previous` alone is not enough: a stale status read between two approvals replaces it, and
    // the order's own payment must never be taken for a second one and refunded.
    if (ours || previous === 'approved' || order.refunding) return { kind: 'ignore', why: 'duplicate approval' };
    // Money for an order that is over goes back whatever the amount.
    if (TERMINAL_STATUSES.includes(order.status)) return { kind: 'refund', why: `paid_while_${order.status}` };
    const matches = update.amountMinor === order.totalMinor && update.currency === order.currency;
    if (order.status === 'pending_payment' && matches) return { kind: 'paid' };
    if (!matches) return { kind: 'refund', why: 'amount_mismatch' };
    return { kind: 'refund', why: order.paymentId ? 'duplicate_payment' : `paid_while_${order.status}` };
  }
  if (update.status === 'rejected' || update.status === 'cancelled') {
    if (previous || order.status !== 'pending_payment') return { kind: 'ignore', why: 'stale rejection' };
    return { kind: 'rejected' };
  }
  return { kind: 'ignore', why: `status ${update.status} needs no action` };
}
