import type { Db } from '../../db/knex';
import { attachCheckout } from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { OrderLine, PaymentInstructions, PaymentStatus } from '../../workflows/orders/contracts';
import { callProvider } from './failures';
import { preferenceKey, refundKey } from './idempotency-keys';
import type { MercadoPagoClient, MercadoPagoPayment } from './mercadopago-client';

export interface PaymentActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  mercadopago: MercadoPagoClient;
  publicBaseUrl: string;
}

export { PaymentFailure } from './failures';

export function createPaymentActivities({ db, mercadopago, publicBaseUrl }: PaymentActivityDeps) {
  return {
    /** Idempotency key: preferenceKey, so a retry returns the preference the first call made. */
    async createCheckout(input: {
      orderId: string;
      businessId: string;
      items: OrderLine[];
      totalMinor: number;
      currency: string;
      deadline: string;
    }): Promise<PaymentInstructions> {
      const preference = await callProvider(() =>
        mercadopago.createPreference(
          {
            externalReference: input.orderId,
            items: input.items.map((item) => ({
              id: item.productId,
              title: item.name,
              quantity: item.quantity,
              unitPriceMinor: item.unitPriceMinor,
            })),
            currencyId: input.currency,
            notificationUrl: `${publicBaseUrl}/v1/webhooks/mercadopago`,
            expiresAt: new Date(input.deadline),
          },
          preferenceKey(input.orderId),
        ),
      );
      await attachCheckout(db, input.orderId, { preferenceId: preference.id, checkoutUrl: preference.initPoint });
      return {
        provider: 'mercadopago',
        amountMinor: input.totalMinor,
        currency: input.currency,
        deadline: input.deadline,
        preferenceId: preference.id,
        checkoutUrl: preference.initPoint,
      };
    },

    /** Reconciliation: every approved payment the provider holds for the order, oldest first. */
    async findApprovedPayments(input: { orderId: string }) {
      const payments = await callProvider(() => mercadopago.searchPaymentsByExternalReference(input.orderId));
      return payments
        .filter((payment) => payment.status === 'approved')
        .map((payment) => ({
          paymentId: payment.id,
          status: 'approved' as PaymentStatus,
          amountMinor: payment.amountMinor,
          currency: payment.currencyId,
        }));
    },

    /** The first version of reconciliation, kept for executions that started before the patch. */
    async findApprovedPayment(input: { orderId: string }) {
      const payments = await callProvider(() => mercadopago.searchPaymentsByExternalReference(input.orderId));
      const approved = payments.find((payment) => payment.status === 'approved');
      return approved
        ? {
            paymentId: approved.id,
            status: 'approved' as PaymentStatus,
            amountMinor: approved.amountMinor,
            currency: approved.currencyId,
          }
        : null;
    },

    /**
     * Gives back what is left of `amountMinor` after the refunds the provider already holds for the
     * payment, whoever made them (see refundRemainder). A refusal by the provider is a
     * non-retryable PaymentFailure.ProviderRejected, for the workflow to record.
     */
    async refundPayment(input: {
      orderId: string;
      paymentId: string;
      amountMinor: number;
      reason: string;
    }): Promise<{ refundId: string | null }> {
      const payment = await callProvider(() => mercadopago.getPayment(input.paymentId));
      return callProvider(() =>
        refundRemainder(mercadopago, payment, { orderId: input.orderId, amountMinor: input.amountMinor }),
      );
    },
  };
}

/**
 * The one refund rule, for the workflow and for money reaching closed orders: read what the
 * provider has already refunded and ask only for the remainder, so a cancel after a partial refund
 * in MercadoPago's back office never asks for the full amount again. Nothing left: the existing
 * refund is the answer; a charged-back payment: the buyer has the money and no refund is made.
 *
 * Idempotency key: refundKey, which follows the provider's state, so retries and the two paths
 * share one key and the money goes back once.
 */
export async function refundRemainder(
  mercadopago: MercadoPagoClient,
  payment: MercadoPagoPayment,
  want: { orderId: string; amountMinor: number },
): Promise<{ refundId: string | null }> {
  const existing = () => ({ refundId: payment.refunds.at(-1)?.id ?? `provider:${payment.id}` });
  if (payment.status === 'refunded') return existing();
  if (payment.status === 'charged_back') return { refundId: null };
  const remainder = Math.min(want.amountMinor, payment.amountMinor) - payment.refundedMinor;
  if (remainder <= 0) return existing();
  const key = refundKey({ orderId: want.orderId, paymentId: payment.id, refundedMinor: payment.refundedMinor });
  const refund = await mercadopago.refundPayment(payment.id, key, { currency: payment.currencyId, amountMinor: remainder });
  return { refundId: refund.id };
}
