import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createOrderActivities } from '../../activities/orders';
import type { createPaymentActivities } from '../../activities/payments';

type OrderActivities = ReturnType<typeof createOrderActivities>;
type PaymentActivities = ReturnType<typeof createPaymentActivities>;

/**
 * The order workflow's activity option sets, one per kind of work. Local activities run inside the
 * workflow task that needs them, so a step costs the engine one workflow task and no activity task;
 * regular activities are kept for what needs long retries (refunds, reconciliation).
 */

/** Placement: the customer is waiting on the HTTP answer, so a few quick attempts, then a clear failure. */
export const placementRecords = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds' },
});

export const placementCheckout = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '8 seconds',
  scheduleToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '3 seconds' },
});

/**
 * The read model, one transaction per event keyed by (order id, seq). Retried until the database is
 * back so no event is skipped; past the SDK's local retry threshold (1 min) the backoff becomes a
 * workflow timer, so a long outage does not hold a workflow task open.
 */
export const localRecords = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Money that must eventually move: retry without limit, backing off to 5 min. */
export const money = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Executions that started before the local-activity patches keep their regular activities. */
export const legacyRecords = proxyActivities<OrderActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export const legacyCheckout = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 4 },
});
