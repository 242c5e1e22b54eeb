import { markNotificationsProcessed } from '../../db/repositories/webhooks';
import type { SyncResult } from '../../workflows/payments/contracts';
import { callProvider } from './failures';
import { createPaymentSync, type PaymentSyncDeps } from './payment-sync';

/**
 * The activities of `processPaymentNotification`, which no new notification starts any more (the
 * webhook relay signals orders directly); kept so executions started before that finish.
 */
export function createNotificationActivities(deps: PaymentSyncDeps) {
  const sync = createPaymentSync(deps);
  return {
    paymentsOfMerchantOrder: (input: { merchantOrderId: string }): Promise<string[]> =>
      callProvider(() => sync.paymentsOf('merchant_order', input.merchantOrderId)),

    syncPayment: (input: { paymentId: string }): Promise<SyncResult> => callProvider(() => sync.syncPayment(input.paymentId)),

    async markNotificationProcessed(input: { notificationId: string; outcome: string }): Promise<void> {
      await markNotificationsProcessed(deps.db, [input.notificationId], input.outcome);
    },
  };
}
