/**
 * Every `X-Idempotency-Key` sent to MercadoPago is built here, so "never pay or refund twice" rests
 * on one function per request kind rather than on string literals in several callers agreeing.
 */

/** One checkout preference per order: a retried createCheckout gets back the preference the first call made. */
export const preferenceKey = (orderId: string): string => `preference:${orderId}`;

/**
 * One refund per order, payment and provider state: `refund:<order>:<payment>`, with
 * `:after-<refunded>` once the provider already holds refunds for the payment. Retries and both
 * refund paths (the order workflow, money reaching a closed order) share a key, so the money goes
 * back once, while a remainder asked after a new partial refund is a new request, not a key conflict.
 */
export function refundKey(input: { orderId: string; paymentId: string; refundedMinor: number }): string {
  const base = `refund:${input.orderId}:${input.paymentId}`;
  return input.refundedMinor === 0 ? base : `${base}:after-${input.refundedMinor}`;
}
