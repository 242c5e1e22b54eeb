import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import { markNotificationProcessed } from '../../db/repositories/webhooks';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { paymentUpdateSignal, type PaymentStatus, type PaymentUpdate } from '../../workflows/orders/contracts';
import type { SyncResult } from '../../workflows/payments/contracts';
import { asActivityFailure } from './failures';
import type { MercadoPagoClient, MercadoPagoPayment } from './mercadopago-client';
import { settleClosedOrder } from './closed-orders';

export interface NotificationActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  mercadopago: MercadoPagoClient;
  temporal: Client;
}

/** Order ids are UUIDs: any other external_reference was not set by us. */
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const toPaymentUpdate = (payment: MercadoPagoPayment): PaymentUpdate => ({
  paymentId: payment.id,
  status: payment.status as PaymentStatus,
  statusDetail: payment.statusDetail,
  amountMinor: payment.amountCents,
  currency: payment.currencyId ?? '',
});

export function createNotificationActivities({ db, logger, metrics, mercadopago, temporal }: NotificationActivityDeps) {
  async function fetchPayment(paymentId: string) {
    try {
      return await mercadopago.getPayment(paymentId);
    } catch (error) {
      throw asActivityFailure(error);
    }
  }

  return {
    async paymentsOfMerchantOrder(input: { merchantOrderId: string }): Promise<string[]> {
      try {
        const order = await mercadopago.getMerchantOrder(input.merchantOrderId);
        return order.payments.map((payment) => payment.id);
      } catch (error) {
        throw asActivityFailure(error);
      }
    },

    /**
     * Hands the provider's current status to the order workflow. Signals are idempotent for the
     * workflow (it ignores a status it has already seen), so a retry is harmless. An order whose
     * workflow has finished is settled here instead: late money is refunded, reversals recorded.
     */
    async syncPayment(input: { paymentId: string }): Promise<SyncResult> {
      const payment = await fetchPayment(input.paymentId);
      const base = { paymentId: payment.id, status: payment.status };
      if (!payment.externalReference) return { ...base, outcome: 'no_external_reference', orderId: null };
      // Only a malformed reference means "not ours"; a database error must fail the attempt and be retried.
      const order = ORDER_ID.test(payment.externalReference) ? await orders.findOrder(db, payment.externalReference) : undefined;
      if (!order) {
        logger.warn({ paymentId: payment.id, externalReference: payment.externalReference }, 'payment for an unknown order');
        return { ...base, outcome: 'unknown_order', orderId: null };
      }
      try {
        await temporal.workflow.getHandle(order.workflowId).signal(paymentUpdateSignal, toPaymentUpdate(payment));
        return { ...base, outcome: 'signalled', orderId: order.id };
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      await settleClosedOrder({ db, mercadopago, logger, metrics }, order, payment);
      return { ...base, outcome: 'settled_closed_order', orderId: order.id };
    },

    async markNotificationProcessed(input: { notificationId: string; outcome: string }): Promise<void> {
      await markNotificationProcessed(db, input.notificationId, input.outcome);
    },
  };
}
