import { redirect, sendHtml } from './http';
import { minorToText } from './money';
import { preferenceCurrency, preferenceTotalMinor } from './preference-input';
import { route, type RequestContext, type Route } from './router';
import type { EmulatorState } from './state';
import type { StoredPayment, StoredPreference } from './types';

/**
 * Stand-in for MercadoPago's hosted checkout (init_point): shows the preference and lets a person
 * act as the buyer with Approve / Reject / Pending, then returns to back_urls like MercadoPago does.
 */
export function checkoutRoutes(state: EmulatorState): Route[] {
  return [
    route('GET', /^\/checkout\/v1\/redirect\/?$/, (ctx) => showCheckout(state, ctx)),
    route('POST', /^\/checkout\/v1\/redirect\/pay\/?$/, (ctx) => submitCheckout(state, ctx)),
  ];
}

const BUYER_CHOICES = [
  { status: 'approved', label: 'Approve' },
  { status: 'rejected', label: 'Reject' },
  { status: 'pending', label: 'Pending' },
] as const;

function showCheckout(state: EmulatorState, ctx: RequestContext): void {
  const preference = state.store.getPreference(ctx.url.searchParams.get('pref_id') ?? '');
  sendHtml(ctx.res, 200, checkoutHtml(preference));
}

function submitCheckout(state: EmulatorState, ctx: RequestContext): void {
  const form = new URLSearchParams(typeof ctx.body === 'string' ? ctx.body : '');
  const preference = state.store.getPreference(form.get('pref_id') ?? '');
  const choice = BUYER_CHOICES.find((c) => c.status === form.get('status'));
  const payment = state.store.pay(preference.id, { status: choice?.status ?? 'rejected' });
  state.notifyPayment(payment, 'payment.created');
  const backUrl = backUrlFor(preference, payment);
  if (backUrl) return redirect(ctx.res, withReturnParams(backUrl, payment));
  sendHtml(ctx.res, 200, page('Payment result', `<p>Payment <b>${payment.id}</b>: ${escapeHtml(payment.status)}</p>`));
}

function backUrlFor(preference: StoredPreference, payment: StoredPayment): string | undefined {
  if (payment.status === 'approved') return preference.backUrls.success;
  if (payment.status === 'rejected') return preference.backUrls.failure;
  return preference.backUrls.pending;
}

/** The query string MercadoPago appends when it sends the buyer back to the shop. */
function withReturnParams(backUrl: string, payment: StoredPayment): string {
  const url = new URL(backUrl);
  const params: Record<string, string> = {
    collection_id: String(payment.id),
    collection_status: payment.status,
    payment_id: String(payment.id),
    status: payment.status,
    external_reference: payment.externalReference || 'null',
    payment_type: payment.paymentTypeId,
    merchant_order_id: String(payment.merchantOrderId),
    preference_id: payment.preferenceId,
    site_id: 'MLA',
    processing_mode: 'aggregator',
    merchant_account_id: 'null',
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function checkoutHtml(preference: StoredPreference): string {
  const rows = preference.items
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.title)}</td><td>${item.quantity}</td>` +
        `<td>${minorToText(item.unitPriceMinor, item.currencyId)} ${escapeHtml(item.currencyId)}</td></tr>`,
    )
    .join('');
  const total = minorToText(preferenceTotalMinor(preference.items), preferenceCurrency(preference.items));
  const buttons = BUYER_CHOICES.map(
    (c) =>
      `<form method="post" action="/checkout/v1/redirect/pay">` +
      `<input type="hidden" name="pref_id" value="${escapeHtml(preference.id)}">` +
      `<button name="status" value="${c.status}">${c.label}</button></form>`,
  ).join('');
  return page(
    'MercadoPago emulator checkout',
    `<p>Order <code>${escapeHtml(preference.externalReference)}</code></p>` +
      `<table><tr><th>Item</th><th>Qty</th><th>Unit price</th></tr>${rows}</table>` +
      `<p class="total">Total: ${total} ${escapeHtml(preference.items[0]?.currencyId ?? '')}</p>${buttons}`,
  );
}

function page(title: string, content: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto}td,th{padding:.25rem .75rem;text-align:left}
form{display:inline-block;margin-right:.5rem}button{padding:.5rem 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${content}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
