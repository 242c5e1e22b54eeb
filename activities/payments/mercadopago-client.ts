import { MercadoPagoConfig, MerchantOrder, Payment, PaymentRefund, Preference } from 'mercadopago';
import type { Options } from 'mercadopago/dist/types';
import { formatMinor, isSupportedCurrency, parseMinor } from '../../lib/currencies';

/**
 * The one door to MercadoPago for our activities: a small typed surface over the official SDK
 * (v3.6.1) that makes each call safe to retry from Temporal. Money crosses it as integer minor
 * units of the currency (lib/currencies.ts): 5000 CLP go out as 5000, 250000 ARS as 2500.00.
 */

export const MERCADOPAGO_API_URL = 'https://api.mercadopago.com';

export interface MercadoPagoClientOptions {
  accessToken: string;
  /** Another host speaking MercadoPago's REST contract (the emulator); defaults to the real API. */
  apiUrl?: string;
  timeoutMs: number;
}

export interface PreferenceItemInput {
  id: string;
  title: string;
  quantity: number;
  unitPriceMinor: number;
  description?: string;
}

export interface CreatePreferenceInput {
  externalReference: string;
  /** One of lib/currencies.ts; item prices are in its minor units. */
  currencyId: string;
  items: PreferenceItemInput[];
  notificationUrl?: string;
  backUrls?: { success?: string; pending?: string; failure?: string };
  autoReturn?: 'approved' | 'all';
  /** Checkout refuses payment after this instant. Pass a value from the workflow, never `new Date()`, or retries change the body. */
  expiresAt?: Date;
  payerEmail?: string;
  metadata?: Record<string, unknown>;
}

export interface CheckoutPreference {
  id: string;
  initPoint: string;
  sandboxInitPoint?: string;
  externalReference: string;
  expiresAt?: string;
}

export interface MercadoPagoRefund {
  id: string;
  paymentId: string;
  amountMinor: number;
  status: string;
  dateCreated?: string;
}

export interface MercadoPagoPayment {
  id: string;
  status: string;
  statusDetail?: string;
  externalReference?: string;
  amountMinor: number;
  refundedMinor: number;
  currencyId: string;
  merchantOrderId?: string;
  dateCreated?: string;
  dateApproved?: string;
  dateLastUpdated?: string;
  refunds: MercadoPagoRefund[];
}

export interface MercadoPagoMerchantOrder {
  id: string;
  preferenceId?: string;
  externalReference?: string;
  status?: string;
  orderStatus?: string;
  currencyId: string;
  totalAmountMinor: number;
  paidAmountMinor: number;
  refundedAmountMinor: number;
  payments: Array<{ id: string; status?: string; amountMinor: number; refundedMinor: number }>;
}

export interface MercadoPagoClient {
  createPreference(input: CreatePreferenceInput, idempotencyKey: string): Promise<CheckoutPreference>;
  getPayment(id: string | number): Promise<MercadoPagoPayment>;
  /** Oldest first. */
  searchPaymentsByExternalReference(externalReference: string): Promise<MercadoPagoPayment[]>;
  /** Full refund of what is left when `amountMinor` is omitted; `currency` is the payment's. */
  refundPayment(
    paymentId: string | number,
    idempotencyKey: string,
    amount: { currency: string; amountMinor?: number },
  ): Promise<MercadoPagoRefund>;
  getMerchantOrder(id: string | number): Promise<MercadoPagoMerchantOrder>;
}

export function createMercadoPagoClient(options: MercadoPagoClientOptions): MercadoPagoClient {
  // Issue #481: every SDK client merges per-call requestOptions into its MercadoPagoConfig, so a
  // shared config would carry one call's X-Idempotency-Key into the next. Each call gets its own.
  const sdkConfig = (idempotencyKey?: string): MercadoPagoConfig => createSdkConfig(options, idempotencyKey);
  return {
    createPreference: (input, key) =>
      call('createPreference', async () => {
        const body = toPreferenceBody(input);
        return toCheckoutPreference(await new Preference(sdkConfig(requireKey(key))).create({ body }));
      }),
    getPayment: (id) => call('getPayment', async () => toPayment(await new Payment(sdkConfig()).get({ id: String(id) }))),
    searchPaymentsByExternalReference: (ref) => call('searchPayments', () => searchAll(sdkConfig, ref)),
    refundPayment: (paymentId, key, { currency, amountMinor }) =>
      call('refundPayment', async () => {
        const body = amountMinor === undefined ? {} : { amount: minorToMercadoPagoAmount(amountMinor, currency) };
        const refund = await new PaymentRefund(sdkConfig(requireKey(key))).create({ payment_id: String(paymentId), body });
        return toRefund(refund, requireCurrency(currency));
      }),
    getMerchantOrder: (id) =>
      call('getMerchantOrder', async () =>
        toMerchantOrder(await new MerchantOrder(sdkConfig()).get({ merchantOrderId: String(id) })),
      ),
  };
}

/**
 * SDK settings for one call. `maxRetries: 0` because Temporal owns retries (the SDK's own would
 * hide attempts from the activity's retry policy and stretch past its timeout); `timeout` bounds
 * each HTTP attempt; the idempotency key is always ours, never the SDK's random one.
 */
export function createSdkConfig(options: MercadoPagoClientOptions, idempotencyKey?: string): MercadoPagoConfig {
  const dispatcher = createBaseUrlDispatcher(options.apiUrl ?? MERCADOPAGO_API_URL);
  const sdkOptions: Options & { dispatcher?: UndiciDispatcher } = {
    timeout: options.timeoutMs,
    maxRetries: 0,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(dispatcher ? { dispatcher } : {}),
  };
  return new MercadoPagoConfig({ accessToken: options.accessToken, options: sdkOptions });
}

interface UndiciDispatcher {
  dispatch(options: { origin?: string | URL; path: string }, handler: unknown): boolean;
}

const UNDICI_GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
const DEFAULT_ORIGIN = new URL(MERCADOPAGO_API_URL).origin;

/**
 * The SDK hard-codes https://api.mercadopago.com and calls the global `fetch`, but it spreads any
 * unknown option into fetch's init. Node's fetch (undici) honours an init `dispatcher`, so this one
 * rewrites the origin (and prefixes a path) of MercadoPago-bound requests and hands them to
 * undici's global dispatcher, under the symbol undici itself uses to share it. Only our SDK calls
 * see it: no patched global fetch, no mutated SDK constant shared with other clients.
 */
export function createBaseUrlDispatcher(apiUrl: string): UndiciDispatcher | undefined {
  const target = new URL(apiUrl);
  const prefix = target.pathname.replace(/\/+$/, '');
  if (target.origin === DEFAULT_ORIGIN && prefix === '') return undefined;
  return {
    dispatch(options, handler) {
      const inner = (globalThis as Record<symbol, UndiciDispatcher | undefined>)[UNDICI_GLOBAL_DISPATCHER];
      if (!inner) throw new Error('undici global dispatcher not initialised; is fetch the Node built-in?');
      if (String(options.origin ?? '').replace(/\/$/, '') !== DEFAULT_ORIGIN) return inner.dispatch(options, handler);
      return inner.dispatch({ ...options, origin: target.origin, path: `${prefix}${options.path}` }, handler);
    },
  };
}

const PAGE_SIZE = 100;
const MAX_PAGES = 10;

async function searchAll(sdkConfig: () => MercadoPagoConfig, externalReference: string): Promise<MercadoPagoPayment[]> {
  const payments: MercadoPagoPayment[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const options = {
      external_reference: externalReference,
      sort: 'date_created',
      criteria: 'asc',
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE,
    } as const;
    const result = await new Payment(sdkConfig()).search({ options });
    const rows = result.results ?? [];
    payments.push(...rows.map((row) => toPayment(row as PaymentLike)));
    if (rows.length < PAGE_SIZE || payments.length >= (result.paging?.total ?? 0)) break;
  }
  return payments;
}

export type MercadoPagoErrorKind = 'http' | 'network' | 'timeout' | 'invalid_request';

/**
 * A failed MercadoPago call, classified for Temporal: `retryable` is false for 4xx (except 408 and
 * 429) and for our own invalid input; true for 429, 5xx, network failures and timeouts.
 */
export class MercadoPagoApiError extends Error {
  readonly isMercadoPagoApiError = true;
  readonly kind: MercadoPagoErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly mpError?: string;
  readonly causes: unknown[];
  readonly retryAfterSeconds?: number;

  constructor(message: string, details: Omit<MercadoPagoApiError, keyof Error | 'isMercadoPagoApiError'>, cause?: unknown) {
    super(message, { cause });
    this.name = 'MercadoPagoApiError';
    Object.assign(this, details);
    this.kind = details.kind;
    this.retryable = details.retryable;
    this.causes = details.causes;
  }
}

/** Checks a brand, not `instanceof`, so it survives bundling and duplicate module copies. */
export function isMercadoPagoApiError(error: unknown): error is MercadoPagoApiError {
  return (
    typeof error === 'object' && error !== null && (error as { isMercadoPagoApiError?: unknown }).isMercadoPagoApiError === true
  );
}

/** False for anything that is not a classified MercadoPago failure. */
export function isRetryableMercadoPagoError(error: unknown): boolean {
  return isMercadoPagoApiError(error) && error.retryable;
}

/** Classifies the SDK's errors; anything else (a bug of ours) passes through unclassified. */
async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw isSdkError(error) ? fromSdkError(operation, error) : error;
  }
}

/** The SDK's MercadoPagoError family: `status` (0 for connection failures) and `causes` from the body. */
interface SdkError extends Error {
  status: number;
  error?: string;
  causes: unknown[];
  retryAfter?: number | null;
  __cause__?: unknown;
}

function isSdkError(error: unknown): error is SdkError {
  return error instanceof Error && typeof (error as SdkError).status === 'number' && Array.isArray((error as SdkError).causes);
}

function fromSdkError(operation: string, error: SdkError): MercadoPagoApiError {
  // MPConnectionError: fetch itself failed (refused, reset) or our `timeout` aborted it.
  if (error.status === 0) {
    const cause = error.__cause__ as { name?: string } | undefined;
    const kind = cause?.name === 'AbortError' || cause?.name === 'TimeoutError' ? 'timeout' : 'network';
    return new MercadoPagoApiError(
      `MercadoPago ${operation} ${kind} failure: ${error.message}`,
      { kind, retryable: true, causes: [] },
      error,
    );
  }
  const status = error.status;
  return new MercadoPagoApiError(
    `MercadoPago ${operation} failed with ${status}: ${error.message}`,
    {
      kind: 'http',
      status,
      retryable: status === 408 || status === 429 || status >= 500,
      mpError: error.error,
      causes: error.causes,
      retryAfterSeconds: error.retryAfter ?? undefined,
    },
    error,
  );
}

function invalidRequest(message: string): MercadoPagoApiError {
  return new MercadoPagoApiError(message, { kind: 'invalid_request', retryable: false, causes: [] });
}

function requireKey(key: string): string {
  if (typeof key !== 'string' || key.trim() === '')
    throw invalidRequest('an X-Idempotency-Key is required for MercadoPago writes');
  return key;
}

function requireCurrency(currency: string | null | undefined): string {
  if (!isSupportedCurrency(currency))
    throw invalidRequest(`MercadoPago amounts in ${currency ?? 'no currency'} are not supported`);
  return currency;
}

/** 1234 ARS -> 12.34, 5000 CLP -> 5000: the currency's exponent from lib/currencies.ts, built from digits. */
export function minorToMercadoPagoAmount(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor) || minor < 0)
    throw invalidRequest(`amount must be a non-negative integer of minor units, got ${minor}`);
  return Number(formatMinor(minor, requireCurrency(currency)));
}

/** 12.34 ARS -> 1234, 5000 CLP -> 5000, parsed from the decimal text; an extra decimal rounds half up. */
export function mercadoPagoAmountToMinor(amount: number | string | null | undefined, currency: string): number {
  if (amount === null || amount === undefined) return 0;
  const minor = parseMinor(amount, requireCurrency(currency));
  if (minor === undefined) throw invalidResponse(`MercadoPago sent an amount that is not a decimal: ${String(amount)}`);
  return minor;
}

function invalidResponse(message: string): MercadoPagoApiError {
  return new MercadoPagoApiError(message, { kind: 'http', retryable: false, causes: [] });
}

function toPreferenceBody(input: CreatePreferenceInput): Parameters<Preference['create']>[0]['body'] {
  if (input.items.length === 0) throw invalidRequest('a preference needs at least one item');
  const currency = requireCurrency(input.currencyId);
  return {
    external_reference: input.externalReference,
    items: input.items.map((item) => ({
      id: item.id,
      title: item.title,
      description: item.description,
      quantity: item.quantity,
      currency_id: currency,
      unit_price: minorToMercadoPagoAmount(item.unitPriceMinor, currency),
    })),
    notification_url: input.notificationUrl,
    back_urls: input.backUrls,
    auto_return: input.autoReturn,
    payer: input.payerEmail ? { email: input.payerEmail } : undefined,
    metadata: input.metadata,
    ...(input.expiresAt ? { expires: true, expiration_date_to: input.expiresAt.toISOString().replace('Z', '+00:00') } : {}),
  };
}

function required<T>(value: T | null | undefined, field: string): T {
  if (value === null || value === undefined || value === '') {
    throw invalidResponse(`MercadoPago response is missing ${field}`);
  }
  return value;
}

const optional = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || value === '' ? undefined : String(value);

function toCheckoutPreference(r: Awaited<ReturnType<Preference['create']>>): CheckoutPreference {
  return {
    id: required(r.id, 'id'),
    initPoint: required(r.init_point, 'init_point'),
    sandboxInitPoint: optional(r.sandbox_init_point),
    externalReference: r.external_reference ?? '',
    expiresAt: optional(r.expiration_date_to),
  };
}

interface PaymentLike {
  id?: number | string;
  status?: string;
  status_detail?: string;
  external_reference?: string;
  transaction_amount?: number;
  transaction_amount_refunded?: number;
  currency_id?: string;
  order?: { id?: number | string };
  date_created?: string;
  date_approved?: string;
  date_last_updated?: string;
  refunds?: Array<Parameters<typeof toRefund>[0]>;
}

/** A payment in a currency we never charge in cannot be ours to settle: refused, not guessed at. */
function toPayment(r: PaymentLike): MercadoPagoPayment {
  const currency = responseCurrency(r.currency_id, `payment ${String(r.id)}`);
  return {
    id: String(required(r.id, 'id')),
    status: required(r.status, 'status'),
    statusDetail: optional(r.status_detail),
    externalReference: optional(r.external_reference),
    amountMinor: mercadoPagoAmountToMinor(r.transaction_amount, currency),
    refundedMinor: mercadoPagoAmountToMinor(r.transaction_amount_refunded, currency),
    currencyId: currency,
    merchantOrderId: optional(r.order?.id),
    dateCreated: optional(r.date_created),
    dateApproved: optional(r.date_approved),
    dateLastUpdated: optional(r.date_last_updated),
    refunds: (r.refunds ?? []).map((refund) => toRefund(refund, currency)),
  };
}

function responseCurrency(currency: string | null | undefined, what: string): string {
  if (isSupportedCurrency(currency)) return currency;
  throw invalidResponse(`MercadoPago ${what} is in ${currency ?? 'no currency'}, which we do not settle`);
}

/** A refund carries no currency of its own: it is in its payment's. */
function toRefund(
  r: { id?: number; payment_id?: number; amount?: number; status?: string; date_created?: string },
  currency: string,
): MercadoPagoRefund {
  return {
    id: String(required(r.id, 'refund id')),
    paymentId: String(required(r.payment_id, 'payment_id')),
    amountMinor: mercadoPagoAmountToMinor(r.amount, currency),
    status: r.status ?? 'approved',
    dateCreated: optional(r.date_created),
  };
}

/** A merchant order has no currency field of its own; its items (and payments) carry one. */
function toMerchantOrder(r: Awaited<ReturnType<MerchantOrder['get']>>): MercadoPagoMerchantOrder {
  const currency = responseCurrency(r.items?.[0]?.currency_id ?? r.payments?.[0]?.currency_id, `merchant order ${String(r.id)}`);
  return {
    id: String(required(r.id, 'id')),
    preferenceId: optional(r.preference_id),
    externalReference: optional(r.external_reference),
    status: optional(r.status),
    orderStatus: optional(r.order_status),
    currencyId: currency,
    totalAmountMinor: mercadoPagoAmountToMinor(r.total_amount, currency),
    paidAmountMinor: mercadoPagoAmountToMinor(r.paid_amount, currency),
    refundedAmountMinor: mercadoPagoAmountToMinor(r.refunded_amount, currency),
    payments: (r.payments ?? []).map((p) => ({
      id: String(required(p.id, 'payments[].id')),
      status: optional(p.status),
      amountMinor: mercadoPagoAmountToMinor(p.transaction_amount, currency),
      refundedMinor: mercadoPagoAmountToMinor(p.amount_refunded, currency),
    })),
  };
}
