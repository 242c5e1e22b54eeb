import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/**
 * What the API, the order workflow and its activities share. Imports nothing with side effects,
 * so the workflow bundle and the API can both load it.
 */

export const ORDER_STATUSES = [
  'pending_payment',
  'paid',
  'preparing',
  'ready',
  'completed',
  'cancelled',
  'expired',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['completed', 'cancelled', 'expired', 'refunded'];

export const orderWorkflowId = (businessId: string, orderId: string) => `order:${businessId}:${orderId}`;

export interface OrderLine {
  productId: string;
  name: string;
  unitPriceMinor: number;
  quantity: number;
  lineTotalMinor: number;
}

/** Everything the workflow needs, resolved by the API from the menu before it starts. */
export interface OrderInput {
  orderId: string;
  businessId: string;
  customerId: string;
  idempotencyKey: string;
  requestHash: string;
  currency: string;
  items: OrderLine[];
  totalMinor: number;
  notes: string | null;
  pickupName: string | null;
  paymentTimeoutSeconds: number;
  acceptTimeoutSeconds: number;
}

export interface PaymentInstructions {
  provider: 'mercadopago';
  amountMinor: number;
  currency: string;
  deadline: string;
  preferenceId: string | null;
  checkoutUrl: string | null;
}

export interface OrderView {
  orderId: string;
  businessId: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  items: OrderLine[];
  totalMinor: number;
  notes: string | null;
  pickupName: string | null;
  placedAt: string;
  payment: PaymentInstructions;
  paymentId: string | null;
  refundId: string | null;
  cancelReason: string | null;
  seq: number;
}

/** A transition as the read model stores it; `seq` makes the write idempotent. */
export interface OrderEvent {
  orderId: string;
  businessId: string;
  seq: number;
  type: string;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  data: Record<string, unknown>;
  occurredAt: string;
}

export interface PlaceResult {
  order: OrderView;
  created: boolean;
}

export type PaymentStatus =
  'approved' | 'rejected' | 'pending' | 'in_process' | 'authorized' | 'cancelled' | 'refunded' | 'charged_back' | 'in_mediation';

export interface PaymentUpdate {
  paymentId: string;
  status: PaymentStatus;
  statusDetail?: string;
  amountMinor: number;
  currency: string;
}

export type Actor = { kind: 'staff'; userId: string } | { kind: 'customer'; userId: string } | { kind: 'system' };

export interface CancelRequest {
  actor: Actor;
  reason: string;
}

export const placeUpdate = defineUpdate<PlaceResult, [{ requestHash: string }]>('place');
export const acceptUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('accept');
export const readyUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('ready');
export const completeUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('complete');
export const cancelUpdate = defineUpdate<OrderView, [CancelRequest]>('cancel');
export const paymentUpdateSignal = defineSignal<[PaymentUpdate]>('paymentUpdate');
export const statusQuery = defineQuery<OrderStatus>('status');
export const detailsQuery = defineQuery<OrderView>('details');

export const ORDER_ACTIONS = ['accept', 'ready', 'complete', 'cancel'] as const;
export type OrderAction = (typeof ORDER_ACTIONS)[number];

/** Failure types: exported constants, since class names do not survive bundling. */
export const OrderFailure = {
  InvalidTransition: 'InvalidTransition',
  IdempotencyKeyReused: 'IdempotencyKeyReused',
  NotAllowed: 'NotAllowed',
  PaymentSetupFailed: 'PaymentSetupFailed',
  /** Postgres did not take the order in time: nothing was placed, the same Idempotency-Key may retry. */
  OrderNotRecorded: 'OrderNotRecorded',
} as const;

/** Which staff action moves which status; the workflow and the API both read this table. */
export const STAFF_TRANSITIONS: Record<Exclude<OrderAction, 'cancel'>, { from: OrderStatus; to: OrderStatus }> = {
  accept: { from: 'paid', to: 'preparing' },
  ready: { from: 'preparing', to: 'ready' },
  complete: { from: 'ready', to: 'completed' },
};

export const CUSTOMER_CANCELLABLE: readonly OrderStatus[] = ['pending_payment', 'paid'];
export const STAFF_CANCELLABLE: readonly OrderStatus[] = ['pending_payment', 'paid', 'preparing', 'ready'];
