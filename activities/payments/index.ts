import type { Db } from '../../db/knex';
import { attachCheckout } from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { OrderLine, PaymentInstructions, PaymentStatus } from '../../workflows/orders/contracts';
import { asActivityFailure } from './failures';
import type { MercadoPagoClient } from './mercadopago-client';

export interface PaymentActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  mercadopago: MercadoPagoClient;
  publicBaseUrl: string;
}

export { PaymentFailure, asActivityFailure } from './failures';

async function provider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

export function createPaymentActivities({ db, mercadopago, publicBaseUrl }: PaymentActivityDeps) {
  return {
    /** Idempotency key `preference:<order>`: a retry returns the preference the first call made. */
    async createCheckout(input: {
      orderId: string;
      businessId: string;
      items: OrderLine[];
      totalMinor: number;
      currency: string;
      deadline: string;
    }): Promise<PaymentInstructions> {
      const preference = await provider(() =>
        mercadopago.createPreference(
          {
            externalReference: input.orderId,
            items: input.items.map((item) => ({
              id: item.productId,
              title: item.name,
              quantity: item.quantity,
              unitPriceCents: item.unitPriceMinor,
            })),
            currencyId: input.currency,
            notificationUrl: `${publicBaseUrl}/v1/webhooks/mercadopago`,
            expiresAt: new Date(input.deadline),
          },
          `preference:${input.orderId}`,
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
      const payments = await provider(() => mercadopago.searchPaymentsByExternalReference(input.orderId));
      return payments
        .filter((payment) => payment.status === 'approved')
        .map((payment) => ({
          paymentId: payment.id,
          status: 'approved' as PaymentStatus,
          amountMinor: payment.amountCents,
          currency: payment.currencyId ?? '',
        }));
    },

    /** The first version of reconciliation, kept for executions that started before the patch. */
    async findApprovedPayment(input: { orderId: string }) {
      const payments = await provider(() => mercadopago.searchPaymentsByExternalReference(input.orderId));
      const approved = payments.find((payment) => payment.status === 'approved');
      return approved
        ? {
            paymentId: approved.id,
            status: 'approved' as PaymentStatus,
            amountMinor: approved.amountCents,
            currency: approved.currencyId ?? '',
          }
        : null;
    },

    /**
     * Idempotency key `refund:<order>:<payment>`: however often Temporal retries, the money goes
     * back once. A payment already refunded at the provider counts as done, and so does one charged
     * back meanwhile: the buyer has the money, and the provider would refuse the refund for good.
     */
    async refundPayment(input: {
      orderId: string;
      paymentId: string;
      amountMinor: number;
      reason: string;
    }): Promise<{ refundId: string | null }> {
      const payment = await provider(() => mercadopago.getPayment(input.paymentId));
      if (payment.status === 'refunded' || payment.refundedCents >= input.amountMinor) {
        return { refundId: payment.refunds[0]?.id ?? `provider:${payment.id}` };
      }
      if (payment.status === 'charged_back') return { refundId: null };
      const refund = await provider(() =>
        mercadopago.refundPayment(input.paymentId, `refund:${input.orderId}:${input.paymentId}`, input.amountMinor),
      );
      return { refundId: refund.id };
    },
  };
}
