import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import * as paymentSignals from '../../db/repositories/payment-signals';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { paymentUpdateSignal, type PaymentStatus, type PaymentUpdate } from '../../workflows/orders/contracts';
import type { NotificationTopic, SyncResult } from '../../workflows/payments/contracts';
import { settleClosedOrder } from './closed-orders';
import type { MercadoPagoClient, MercadoPagoPayment } from './mercadopago-client';

export interface PaymentSyncDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  mercadopago: MercadoPagoClient;
  temporal: Client;
}

/** Order ids are UUIDs: any other external_reference was not set by us. */
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one mapping from what MercadoPago says of a payment to what the order workflow is told. */
export const toPaymentUpdate = (payment: MercadoPagoPayment): PaymentUpdate => ({
  paymentId: payment.id,
  status: payment.status as PaymentStatus,
  statusDetail: payment.statusDetail,
  amountMinor: payment.amountMinor,
  currency: payment.currencyId ?? '',
});

/**
 * Hands the provider's own view of a payment to the order it belongs to. Nothing from a
 * notification is trusted but the resource id: the payment is always fetched. Provider errors are
 * thrown as they are; the caller decides whether to retry.
 */
export function createPaymentSync({ db, logger, metrics, mercadopago, temporal }: PaymentSyncDeps) {
  return {
    /** The payments a notification is about: the one named, or those of a merchant order. */
    async paymentsOf(topic: NotificationTopic, resourceId: string): Promise<string[]> {
      if (topic === 'payment') return [resourceId];
      const order = await mercadopago.getMerchantOrder(resourceId);
      return order.payments.map((payment) => payment.id);
    },

    /**
     * Signals the order workflow with the payment's current status. Signals are idempotent for the
     * workflow (it ignores what it has already seen), so a retry is harmless; a status it was
     * already signalled is not sent again (a workflow task saved per late duplicate). An order
     * whose workflow has finished is settled here instead: late money is refunded, reversals recorded.
     */
    async syncPayment(paymentId: string): Promise<SyncResult> {
      const payment = await mercadopago.getPayment(paymentId);
      const base = { paymentId: payment.id, status: payment.status };
      if (!payment.externalReference) return { ...base, outcome: 'no_external_reference', orderId: null };
      // Only a malformed reference means "not ours"; a database error must fail and be retried.
      const order = ORDER_ID.test(payment.externalReference) ? await orders.findOrder(db, payment.externalReference) : undefined;
      if (!order) {
        logger.warn({ paymentId: payment.id, externalReference: payment.externalReference }, 'payment for an unknown order');
        return { ...base, outcome: 'unknown_order', orderId: null };
      }
      const update = toPaymentUpdate(payment);
      const fingerprint = JSON.stringify(update);
      // A signal the server accepted is handled by the run it reached before that run can close,
      // and carried across continue-as-new: the same status again would change nothing.
      if ((await paymentSignals.lastSignalled(db, payment.id)) === fingerprint)
        return { ...base, outcome: 'unchanged', orderId: order.id };
      try {
        await temporal.workflow.getHandle(order.workflowId).signal(paymentUpdateSignal, update);
        await paymentSignals.recordSignalled(db, { paymentId: payment.id, orderId: order.id, fingerprint });
        return { ...base, outcome: 'signalled', orderId: order.id };
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      await settleClosedOrder({ db, mercadopago, logger, metrics }, order, payment);
      return { ...base, outcome: 'settled_closed_order', orderId: order.id };
    },
  };
}
