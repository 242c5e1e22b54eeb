import { asRecord, badRequest, notFound } from './http';
import { decimalToMinor } from './money';
import { renderMerchantOrder, renderPayment, renderPreference, renderRefund } from './render';
import { route, type Reply, type RequestContext, type Route } from './router';
import type { EmulatorState } from './state';
import type { PaymentSearchFilters } from './store';

/** The subset of MercadoPago's REST API cafe-flow uses, with the SDK's exact paths (trailing slashes included). */
export function apiRoutes(state: EmulatorState): Route[] {
  return [
    route('POST', /^\/checkout\/preferences\/?$/, (ctx) => createPreference(state, ctx)),
    route('GET', /^\/checkout\/preferences\/([^/]+)\/?$/, (ctx) =>
      ok(renderPreference(state.store.getPreference(param(ctx, 0)), state.render)),
    ),
    route('GET', /^\/v1\/payments\/search\/?$/, (ctx) => searchPayments(state, ctx)),
    route('GET', /^\/v1\/payments\/([^/]+)\/?$/, (ctx) => ok(renderPayment(state.store.getPayment(param(ctx, 0)), state.render))),
    route('POST', /^\/v1\/payments\/([^/]+)\/refunds\/?$/, (ctx) => createRefund(state, ctx)),
    route('GET', /^\/v1\/payments\/([^/]+)\/refunds\/?$/, (ctx) => listRefunds(state, ctx)),
    route('GET', /^\/v1\/payments\/([^/]+)\/refunds\/([^/]+)\/?$/, (ctx) => getRefund(state, ctx)),
    route('GET', /^\/merchant_orders\/([^/]+)\/?$/, (ctx) => getMerchantOrder(state, ctx)),
  ];
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const param = (ctx: RequestContext, index: number): string => ctx.params[index] ?? '';

function createPreference(state: EmulatorState, ctx: RequestContext): Reply {
  const preference = state.store.createPreference(ctx.body);
  return { status: 201, body: renderPreference(preference, state.render) };
}

function createRefund(state: EmulatorState, ctx: RequestContext): Reply {
  const body = asRecord(ctx.body);
  let amountMinor: number | undefined;
  if (body.amount !== undefined && body.amount !== null) {
    amountMinor = decimalToMinor(body.amount, state.store.getPayment(param(ctx, 0)).currencyId);
    if (amountMinor === undefined || amountMinor <= 0) throw badRequest('amount invalid', 'invalid_refund_amount');
  }
  const refund = state.store.refund(param(ctx, 0), amountMinor, 'collector');
  state.notifyPayment(state.store.getPayment(refund.paymentId), 'payment.updated');
  return { status: 201, body: renderRefund(refund, state.render) };
}

function listRefunds(state: EmulatorState, ctx: RequestContext): Reply {
  const payment = state.store.getPayment(param(ctx, 0));
  return ok(payment.refunds.map((refund) => renderRefund(refund, state.render)));
}

function getRefund(state: EmulatorState, ctx: RequestContext): Reply {
  const payment = state.store.getPayment(param(ctx, 0));
  const refund = payment.refunds.find((r) => String(r.id) === param(ctx, 1));
  if (!refund) throw notFound('Refund not found', 'refund_not_found');
  return ok(renderRefund(refund, state.render));
}

function getMerchantOrder(state: EmulatorState, ctx: RequestContext): Reply {
  const order = state.store.getMerchantOrder(param(ctx, 0));
  return ok(renderMerchantOrder(order, state.store.paymentsOf(order), state.render));
}

const SORTS = ['date_created', 'date_approved', 'date_last_updated', 'money_release_date'] as const;
const MAX_LIMIT = 1000;

function searchPayments(state: EmulatorState, ctx: RequestContext): Reply {
  const filters = parseSearch(ctx.url.searchParams);
  const { total, results } = state.store.searchPayments(filters);
  return ok({
    paging: { total, limit: filters.limit, offset: filters.offset },
    results: results.map((payment) => renderPayment(payment, state.render)),
  });
}

/** Error codes 1000/1003/1004 are the ones MercadoPago documents for this endpoint. */
function parseSearch(query: URLSearchParams): PaymentSearchFilters {
  const sort = query.get('sort') ?? 'date_created';
  if (!(SORTS as readonly string[]).includes(sort)) throw badRequest('Invalid sort value', 1003);
  const criteria = query.get('criteria') ?? 'desc';
  if (criteria !== 'asc' && criteria !== 'desc') throw badRequest('Invalid criteria value', 1004);
  const limit = Number(query.get('limit') ?? 30);
  const offset = Number(query.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT || !Number.isInteger(offset) || offset < 0) {
    throw badRequest('Number of rows exceeded the limits', 1000);
  }
  return {
    externalReference: query.get('external_reference') ?? undefined,
    status: query.get('status') ?? undefined,
    sort: sort as PaymentSearchFilters['sort'],
    criteria,
    offset,
    limit,
  };
}
