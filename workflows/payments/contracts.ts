/** Shared by the webhook route, the notification workflow and its activities. */
export type NotificationTopic = 'payment' | 'merchant_order';

export interface NotificationInput {
  notificationId: string;
  topic: NotificationTopic;
  resourceId: string;
}

/** One workflow per received notification: a redelivery of the same one starts nothing new. */
export const notificationWorkflowId = (notificationId: string) => `mp-notification:${notificationId}`;

export type SyncOutcome = 'signalled' | 'settled_closed_order' | 'unknown_order' | 'no_external_reference';

export interface SyncResult {
  paymentId: string;
  outcome: SyncOutcome;
  orderId: string | null;
  status: string;
}
