import { proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../../activities/payments/notification-activities';
import type { NotificationInput, SyncResult } from './contracts';

const provider = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  // Each attempt is a couple of provider calls and a signal; keep retrying while MercadoPago is
  // down, backing off to a minute, for up to a day (the provider's own redelivery horizon).
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * A provider notification, never trusted: the payment is fetched from MercadoPago and its real
 * status is handed to the order it belongs to (found by external_reference).
 */
export async function processPaymentNotification(input: NotificationInput): Promise<SyncResult[]> {
  const paymentIds =
    input.topic === 'payment'
      ? [input.resourceId]
      : await provider.paymentsOfMerchantOrder({ merchantOrderId: input.resourceId });
  const results: SyncResult[] = [];
  for (const paymentId of paymentIds) {
    results.push(await provider.syncPayment({ paymentId }));
  }
  await provider.markNotificationProcessed({
    notificationId: input.notificationId,
    outcome: results.map((result) => `${result.paymentId}:${result.outcome}`).join(',') || 'no_payments',
  });
  return results;
}
