import type { Actor, OrderEvent, OrderInput, OrderStatus, OrderView, PaymentInstructions, PaymentUpdate } from './contracts';
import { decidePayment as decideForOrder, type PaymentDecision } from '../payments/decision';
import { CUSTOMER_CANCELLABLE, STAFF_CANCELLABLE, STAFF_TRANSITIONS, TERMINAL_STATUSES } from './contracts';

/**
 * The order's state and its pure transition rules. No Temporal API here: the workflow calls these
 * and does the waiting, recording and compensating, so the rules can be unit-tested on their own.
 */
export interface RefundJob {
  paymentId: string;
  amountMinor: number;
  reason: string;
  /** True when refunding the order's own payment moves the order to `refunded`. */
  settlesOrder: boolean;
}

export interface OrderState {
  input: OrderInput;
  placedAt: string;
  paymentDeadline: string;
  status: OrderStatus;
  seq: number;
  recordedSeq: number;
  outbox: OrderEvent[];
  refunds: RefundJob[];
  payment: PaymentInstructions;
  paymentId: string | null;
  paidAt: string | null;
  refundId: string | null;
  cancelReason: string | null;
  acceptDeadline: string | null;
  /** Provider payment ids already acted on, so duplicate notifications change nothing. */
  seenPayments: Record<string, string>;
  setupDone: boolean;
  setupError: string | null;
  placementAnswered: boolean;
  indexedStatus: OrderStatus | null;
  /** The provider was asked for every approved payment at the payment deadline. */
  reconciled?: boolean;
  /** Postgres did not take the order at placement: the run fails so the same key can retry. */
  notRecorded?: boolean;
}

export function initialState(input: OrderInput, now: number): OrderState {
  const paymentDeadline = new Date(now + input.paymentTimeoutSeconds * 1000).toISOString();
  return {
    input,
    placedAt: new Date(now).toISOString(),
    paymentDeadline,
    status: 'pending_payment',
    seq: 0,
    recordedSeq: 0,
    outbox: [],
    refunds: [],
    payment: {
      provider: 'mercadopago',
      amountMinor: input.totalMinor,
      currency: input.currency,
      deadline: paymentDeadline,
      preferenceId: null,
      checkoutUrl: null,
    },
    paymentId: null,
    paidAt: null,
    refundId: null,
    cancelReason: null,
    acceptDeadline: null,
    seenPayments: {},
    setupDone: false,
    setupError: null,
    placementAnswered: false,
    indexedStatus: null,
  };
}

export const isTerminal = (status: OrderStatus) => TERMINAL_STATUSES.includes(status);

/** Moves the order (or records a same-status event) and queues the event for the read model. */
export function transition(
  state: OrderState,
  to: OrderStatus,
  type: string,
  data: Record<string, unknown>,
  now: number,
): OrderEvent {
  state.seq += 1;
  const event: OrderEvent = {
    orderId: state.input.orderId,
    businessId: state.input.businessId,
    seq: state.seq,
    type,
    fromStatus: state.seq === 1 ? null : state.status,
    toStatus: to,
    data,
    occurredAt: new Date(now).toISOString(),
  };
  state.status = to;
  state.outbox.push(event);
  return event;
}

/** Why an action may not happen now, or undefined when it may. Used by update validators. */
export function refusal(state: OrderState, action: 'accept' | 'ready' | 'complete' | 'cancel', actor: Actor): string | undefined {
  if (!state.setupDone) return 'the order is still being placed';
  if (action === 'cancel') {
    const allowed = actor.kind === 'customer' ? CUSTOMER_CANCELLABLE : STAFF_CANCELLABLE;
    return allowed.includes(state.status) ? undefined : `an order that is ${state.status} cannot be cancelled`;
  }
  if (actor.kind === 'customer') return 'only staff can do this';
  const rule = STAFF_TRANSITIONS[action];
  return state.status === rule.from ? undefined : `${action} needs an order that is ${rule.from}, this one is ${state.status}`;
}

/** What a payment notification means for this order (the rule itself: workflows/payments/decision.ts). */
export function decidePayment(state: OrderState, update: PaymentUpdate): PaymentDecision {
  return decideForOrder(
    {
      status: state.status,
      paymentId: state.paymentId,
      totalMinor: state.input.totalMinor,
      currency: state.input.currency,
      previousStatus: state.seenPayments[update.paymentId],
      refunding: state.refunds.some((job) => job.paymentId === update.paymentId),
    },
    update,
  );
}

// How settled a provider status is: a later read must never replace a more settled one.
const STATUS_RANK: Record<string, number> = { approved: 2, rejected: 2, cancelled: 2, refunded: 3, charged_back: 3 };
const rank = (status: string | undefined) => (status === undefined ? -1 : (STATUS_RANK[status] ?? 1));

/** Remembers what the provider said of a payment, keeping the most settled status seen. */
export function rememberPayment(state: OrderState, paymentId: string, status: string, ranked: boolean): void {
  if (!ranked || rank(status) >= rank(state.seenPayments[paymentId])) state.seenPayments[paymentId] = status;
}

export function view(state: OrderState): OrderView {
  const { input } = state;
  return {
    orderId: input.orderId,
    businessId: input.businessId,
    customerId: input.customerId,
    status: state.status,
    currency: input.currency,
    items: input.items,
    totalMinor: input.totalMinor,
    notes: input.notes,
    pickupName: input.pickupName,
    placedAt: state.placedAt,
    payment: state.payment,
    paymentId: state.paymentId,
    refundId: state.refundId,
    cancelReason: state.cancelReason,
    seq: state.seq,
  };
}
