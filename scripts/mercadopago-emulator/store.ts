import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from './http';
import { parsePreferenceBody, preferenceCurrency, preferenceTotalMinor } from './preference-input';
import {
  DEFAULT_STATUS_DETAIL,
  type PaymentStatus,
  type StoredMerchantOrder,
  type StoredPayment,
  type StoredPreference,
  type StoredRefund,
} from './types';

export interface PayInput {
  status: PaymentStatus;
  statusDetail?: string;
  paymentMethodId?: string;
  paymentTypeId?: string;
  payerEmail?: string;
}

export interface PaymentSearchFilters {
  externalReference?: string;
  status?: string;
  sort: 'date_created' | 'date_approved' | 'date_last_updated' | 'money_release_date';
  criteria: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/**
 * The emulator's in-memory state and the business rules MercadoPago applies to it: a buyer's
 * payment hangs off a preference and its merchant order, refunds never exceed what was paid,
 * and a payment becomes `refunded` only once fully refunded.
 */
export class EmulatorStore {
  private preferences = new Map<string, StoredPreference>();
  private payments = new Map<number, StoredPayment>();
  private merchantOrders = new Map<number, StoredMerchantOrder>();
  // Ids keep growing across reset() and start from the clock, so a database that outlives one
  // emulator run never sees the same payment id reused for a different payment.
  private nextPaymentId = Math.floor(Date.now() / 1000) * 10;
  private nextMerchantOrderId = Math.floor(Date.now() / 1000) * 10;
  private nextRefundId = Math.floor(Date.now() / 1000) * 10;

  constructor(readonly collectorId: number) {}

  reset(): void {
    this.preferences.clear();
    this.payments.clear();
    this.merchantOrders.clear();
  }

  createPreference(body: unknown, now = Date.now()): StoredPreference {
    const id = `${this.collectorId}-${randomUUID()}`;
    const preference: StoredPreference = parsePreferenceBody(body, id, now);
    this.preferences.set(id, preference);
    return preference;
  }

  getPreference(id: string): StoredPreference {
    const preference = this.preferences.get(id);
    if (!preference) throw notFound(`Preference ${id} not found`, 'preference_not_found');
    return preference;
  }

  /** The buyer pays at the checkout: one payment on the preference's merchant order. */
  pay(preferenceId: string, input: PayInput, now = Date.now()): StoredPayment {
    const preference = this.getPreference(preferenceId);
    if (isExpired(preference, now)) throw badRequest('preference expired', 'preference_expired');
    const order = this.merchantOrderFor(preference, now);
    const payment: StoredPayment = {
      id: this.nextPaymentId++,
      preferenceId,
      merchantOrderId: order.id,
      externalReference: preference.externalReference,
      status: input.status,
      statusDetail: input.statusDetail ?? DEFAULT_STATUS_DETAIL[input.status],
      amountMinor: preferenceTotalMinor(preference.items),
      currencyId: preferenceCurrency(preference.items),
      description: preference.items[0]?.title ?? '',
      items: preference.items,
      paymentMethodId: input.paymentMethodId ?? 'visa',
      paymentTypeId: input.paymentTypeId ?? 'credit_card',
      payerEmail: input.payerEmail ?? 'test_user_emulator@testuser.com',
      notificationUrl: preference.notificationUrl,
      metadata: preference.metadata,
      dateCreated: now,
      dateApproved: input.status === 'approved' ? now : undefined,
      dateLastUpdated: now,
      refunds: [],
    };
    this.payments.set(payment.id, payment);
    order.paymentIds.push(payment.id);
    order.lastUpdated = now;
    return payment;
  }

  getPayment(id: number | string): StoredPayment {
    const payment = this.payments.get(Number(id));
    if (!payment) throw notFound('Payment not found', 2000);
    return payment;
  }

  setPaymentStatus(id: number | string, status: PaymentStatus, statusDetail?: string, now = Date.now()): StoredPayment {
    const payment = this.getPayment(id);
    payment.status = status;
    payment.statusDetail = statusDetail ?? DEFAULT_STATUS_DETAIL[status];
    if (status === 'approved' && payment.dateApproved === undefined) payment.dateApproved = now;
    this.touch(payment, now);
    return payment;
  }

  /** Full refund of what is left when amountMinor is omitted, as MercadoPago does for a body without `amount`. */
  refund(
    id: number | string,
    amountMinor: number | undefined,
    sourceType: StoredRefund['sourceType'],
    now = Date.now(),
  ): StoredRefund {
    const payment = this.getPayment(id);
    if (payment.status !== 'approved') {
      throw badRequest(`Payment ${payment.id} cannot be refunded in status ${payment.status}`, 'invalid_payment_status');
    }
    const remaining = payment.amountMinor - refundedMinor(payment);
    const amount = amountMinor ?? remaining;
    if (amount <= 0 || amount > remaining) {
      throw badRequest('Invalid refund amount: exceeds the available balance', 'invalid_refund_amount');
    }
    const refund: StoredRefund = {
      id: this.nextRefundId++,
      paymentId: payment.id,
      amountMinor: amount,
      currencyId: payment.currencyId,
      dateCreated: now,
      sourceType,
    };
    payment.refunds.push(refund);
    const fully = refundedMinor(payment) === payment.amountMinor;
    payment.status = fully ? 'refunded' : 'approved';
    payment.statusDetail = fully ? 'refunded' : 'partially_refunded';
    this.touch(payment, now);
    return refund;
  }

  searchPayments(filters: PaymentSearchFilters): { total: number; results: StoredPayment[] } {
    const matching = [...this.payments.values()].filter(
      (p) =>
        (filters.externalReference === undefined || p.externalReference === filters.externalReference) &&
        (filters.status === undefined || p.status === filters.status),
    );
    const key = sortKey(filters.sort);
    const direction = filters.criteria === 'asc' ? 1 : -1;
    matching.sort((a, b) => direction * (key(a) - key(b) || a.id - b.id));
    return { total: matching.length, results: matching.slice(filters.offset, filters.offset + filters.limit) };
  }

  getMerchantOrder(id: number | string): StoredMerchantOrder {
    const order = this.merchantOrders.get(Number(id));
    if (!order) throw notFound('Merchant Order not found', 'not_found');
    return order;
  }

  paymentsOf(order: StoredMerchantOrder): StoredPayment[] {
    return order.paymentIds.map((id) => this.getPayment(id));
  }

  private merchantOrderFor(preference: StoredPreference, now: number): StoredMerchantOrder {
    if (preference.merchantOrderId !== undefined) return this.getMerchantOrder(preference.merchantOrderId);
    const order: StoredMerchantOrder = {
      id: this.nextMerchantOrderId++,
      preferenceId: preference.id,
      externalReference: preference.externalReference,
      notificationUrl: preference.notificationUrl,
      items: preference.items,
      dateCreated: now,
      lastUpdated: now,
      paymentIds: [],
    };
    this.merchantOrders.set(order.id, order);
    preference.merchantOrderId = order.id;
    return order;
  }

  private touch(payment: StoredPayment, now: number): void {
    payment.dateLastUpdated = now;
    const order = this.merchantOrders.get(payment.merchantOrderId);
    if (order) order.lastUpdated = now;
  }
}

export function refundedMinor(payment: StoredPayment): number {
  return payment.refunds.reduce((sum, refund) => sum + refund.amountMinor, 0);
}

function isExpired(preference: StoredPreference, now: number): boolean {
  if (!preference.expires || !preference.expirationDateTo) return false;
  const until = Date.parse(preference.expirationDateTo);
  return Number.isFinite(until) && now > until;
}

function sortKey(sort: PaymentSearchFilters['sort']): (p: StoredPayment) => number {
  switch (sort) {
    case 'date_approved':
      return (p) => p.dateApproved ?? 0;
    case 'date_last_updated':
      return (p) => p.dateLastUpdated;
    default:
      return (p) => p.dateCreated;
  }
}
