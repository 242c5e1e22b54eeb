import { markNotificationsProcessed } from '../../db/repositories/webhooks';
import type { SyncResult } from '../../workflows/payments/contracts';
import { asActivityFailure } from './failures';
import { createPaymentSync, type PaymentSyncDeps } from './payment-sync';

/**
 * The activities of `processPaymentNotification`, which no new notification starts any more (the
 * webhook relay signals orders directly); kept so executions started before that finish.
 */
export function createNotificationActivities(deps: PaymentSyncDeps) {
  const sync = createPaymentSync(deps);
  const provider = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw asActivityFailure(error);
    }
  };

  return {
    paymentsOfMerchantOrder: (input: { merchantOrderId: string }): Promise<string[]> =>
      provider(() => sync.paymentsOf('merchant_order', input.merchantOrderId)),

    syncPayment: (input: { paymentId: string }): Promise<SyncResult> => provider(() => sync.syncPayment(input.paymentId)),

    async markNotificationProcessed(input: { notificationId: string; outcome: string }): Promise<void> {
      await markNotificationsProcessed(deps.db, [input.notificationId], input.outcome);
    },
  };
}
