/** Shared by the webhook route, the notification relay, the order workflow and the payment activities. */

/** Failure types of the payment activities; the order workflow branches on them. */
export const PaymentFailure = {
  /** MercadoPago answered a 4xx that retrying will not change (a refused refund, an unknown payment). */
  ProviderRejected: 'PaymentProviderRejected',
} as const;

export type NotificationTopic = 'payment' | 'merchant_order';

export interface NotificationInput {
  notificationId: string;
  topic: NotificationTopic;
  resourceId: string;
}

export type SyncOutcome = 'signalled' | 'unchanged' | 'settled_closed_order' | 'unknown_order' | 'no_external_reference';

export interface SyncResult {
  paymentId: string;
  outcome: SyncOutcome;
  orderId: string | null;
  status: string;
}
