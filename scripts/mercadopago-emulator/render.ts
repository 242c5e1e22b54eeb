import { mpDate } from './http';
import { minorToDecimal } from './money';
import { preferenceCurrency, preferenceTotalMinor } from './preference-input';
import { refundedMinor } from './store';
import type { StoredItem, StoredMerchantOrder, StoredPayment, StoredPreference, StoredRefund } from './types';

/** Turns internal records (minor units, epoch ms) into MercadoPago's JSON (decimals, offset dates). */

export interface RenderContext {
  /** Where buyers reach the emulator's checkout page (init_point). */
  publicUrl: string;
  collectorId: number;
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
const dateOrNull = (ms: number | undefined): string | null => (ms === undefined ? null : mpDate(ms));

export function renderItem(item: StoredItem): Record<string, unknown> {
  return {
    id: item.id,
    title: item.title,
    description: item.description,
    category_id: item.categoryId,
    picture_url: orNull(item.pictureUrl),
    currency_id: item.currencyId,
    quantity: item.quantity,
    unit_price: minorToDecimal(item.unitPriceMinor, item.currencyId),
  };
}

export function renderPreference(preference: StoredPreference, ctx: RenderContext): Record<string, unknown> {
  const checkoutUrl = `${ctx.publicUrl}/checkout/v1/redirect?pref_id=${encodeURIComponent(preference.id)}`;
  return {
    additional_info: '',
    auto_return: preference.autoReturn,
    back_urls: {
      success: preference.backUrls.success ?? '',
      pending: preference.backUrls.pending ?? '',
      failure: preference.backUrls.failure ?? '',
    },
    binary_mode: preference.binaryMode,
    client_id: String(ctx.collectorId),
    collector_id: ctx.collectorId,
    date_created: mpDate(preference.dateCreated),
    date_of_expiration: orNull(preference.dateOfExpiration),
    expiration_date_from: orNull(preference.expirationDateFrom),
    expiration_date_to: orNull(preference.expirationDateTo),
    expires: preference.expires,
    external_reference: preference.externalReference,
    id: preference.id,
    init_point: checkoutUrl,
    sandbox_init_point: checkoutUrl,
    items: preference.items.map(renderItem),
    marketplace: 'NONE',
    marketplace_fee: 0,
    metadata: preference.metadata,
    notification_url: orNull(preference.notificationUrl),
    operation_type: 'regular_payment',
    payer: preference.payer,
    payment_methods: { excluded_payment_methods: [], excluded_payment_types: [], installments: null },
    site_id: 'MLA',
    statement_descriptor: orNull(preference.statementDescriptor),
    total_amount: minorToDecimal(preferenceTotalMinor(preference.items), preferenceCurrency(preference.items)),
  };
}

export function renderRefund(refund: StoredRefund, ctx: RenderContext): Record<string, unknown> {
  const amount = minorToDecimal(refund.amountMinor, refund.currencyId);
  return {
    id: refund.id,
    payment_id: refund.paymentId,
    amount,
    metadata: {},
    source: { id: String(ctx.collectorId), name: 'Emulator Collector', type: refund.sourceType },
    date_created: mpDate(refund.dateCreated),
    unique_sequence_number: null,
    refund_mode: 'standard',
    adjustment_amount: 0,
    status: 'approved',
    reason: null,
    labels: [],
    amount_refunded_to_payer: amount,
    partition_details: [],
  };
}

export function renderPayment(payment: StoredPayment, ctx: RenderContext): Record<string, unknown> {
  const amount = minorToDecimal(payment.amountMinor, payment.currencyId);
  return {
    id: payment.id,
    date_created: mpDate(payment.dateCreated),
    date_approved: dateOrNull(payment.dateApproved),
    date_last_updated: mpDate(payment.dateLastUpdated),
    date_of_expiration: null,
    money_release_date: dateOrNull(payment.dateApproved),
    operation_type: 'regular_payment',
    issuer_id: '310',
    payment_method_id: payment.paymentMethodId,
    payment_type_id: payment.paymentTypeId,
    status: payment.status,
    status_detail: payment.statusDetail,
    currency_id: payment.currencyId,
    description: payment.description,
    live_mode: false,
    collector_id: ctx.collectorId,
    payer: { id: '1234567', email: payment.payerEmail, type: null, identification: { type: null, number: null } },
    metadata: payment.metadata,
    additional_info: { items: payment.items.map(renderItem) },
    order: { id: payment.merchantOrderId, type: 'mercadopago' },
    external_reference: payment.externalReference,
    transaction_amount: amount,
    transaction_amount_refunded: minorToDecimal(refundedMinor(payment), payment.currencyId),
    coupon_amount: 0,
    installments: 1,
    transaction_details: {
      net_received_amount: amount,
      total_paid_amount: amount,
      overpaid_amount: 0,
      installment_amount: amount,
      external_resource_url: null,
      financial_institution: null,
      payment_method_reference_id: null,
      payable_deferral_period: null,
      acquirer_reference: null,
    },
    fee_details: [],
    captured: true,
    binary_mode: false,
    statement_descriptor: null,
    notification_url: orNull(payment.notificationUrl),
    refunds: payment.refunds.map((refund) => renderRefund(refund, ctx)),
    processing_mode: 'aggregator',
  };
}

export function renderMerchantOrder(
  order: StoredMerchantOrder,
  payments: StoredPayment[],
  ctx: RenderContext,
): Record<string, unknown> {
  const totalMinor = preferenceTotalMinor(order.items);
  const paidMinor = sumMinor(payments.filter(isPaid), (p) => p.amountMinor);
  const refundedTotal = sumMinor(payments, refundedMinor);
  const orderStatus = merchantOrderStatus(totalMinor, paidMinor, refundedTotal, payments);
  const currency = preferenceCurrency(order.items);
  return {
    id: order.id,
    status: orderStatus === 'paid' ? 'closed' : 'opened',
    external_reference: order.externalReference,
    preference_id: order.preferenceId,
    payments: payments.map((p) => ({
      id: p.id,
      transaction_amount: minorToDecimal(p.amountMinor, p.currencyId),
      total_paid_amount: minorToDecimal(p.amountMinor, p.currencyId),
      shipping_cost: 0,
      currency_id: p.currencyId,
      status: p.status,
      status_detail: p.statusDetail,
      operation_type: 'regular_payment',
      date_approved: dateOrNull(p.dateApproved),
      date_created: mpDate(p.dateCreated),
      last_modified: mpDate(p.dateLastUpdated),
      amount_refunded: minorToDecimal(refundedMinor(p), p.currencyId),
    })),
    shipments: [],
    payouts: [],
    collector: { id: ctx.collectorId, email: '', nickname: 'EMULATOR' },
    marketplace: 'NONE',
    notification_url: orNull(order.notificationUrl),
    date_created: mpDate(order.dateCreated),
    last_updated: mpDate(order.lastUpdated),
    sponsor_id: null,
    shipping_cost: 0,
    total_amount: minorToDecimal(totalMinor, currency),
    site_id: 'MLA',
    paid_amount: minorToDecimal(paidMinor, currency),
    refunded_amount: minorToDecimal(refundedTotal, currency),
    payer: null,
    items: order.items.map(renderItem),
    cancelled: false,
    additional_info: '',
    application_id: null,
    is_test: true,
    order_status: orderStatus,
    client_id: String(ctx.collectorId),
  };
}

// A refunded payment was paid once; order_status then reads "reverted".
const isPaid = (p: StoredPayment): boolean => p.status === 'approved' || p.status === 'refunded';

function sumMinor(payments: StoredPayment[], amount: (p: StoredPayment) => number): number {
  return payments.reduce((sum, p) => sum + amount(p), 0);
}

function merchantOrderStatus(totalMinor: number, paidMinor: number, refunded: number, payments: StoredPayment[]): string {
  if (paidMinor > 0 && refunded >= paidMinor) return 'reverted';
  if (refunded > 0) return 'partially_reverted';
  if (paidMinor >= totalMinor) return 'paid';
  if (paidMinor > 0) return 'partially_paid';
  if (payments.some((p) => p.status === 'pending' || p.status === 'in_process')) return 'payment_in_process';
  return 'payment_required';
}
