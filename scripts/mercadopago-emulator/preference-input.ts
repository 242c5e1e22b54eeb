import { badRequest, asRecord } from './http';
import { decimalToMinor, isEmulatedCurrency } from './money';
import type { BackUrls, StoredItem, StoredPreference } from './types';

/**
 * Validates a `POST /checkout/preferences` body the way MercadoPago does for the fields we use,
 * answering 400 with its error envelope instead of accepting what the real API would refuse.
 */
export function parsePreferenceBody(raw: unknown, id: string, now: number): Omit<StoredPreference, 'merchantOrderId'> {
  const body = asRecord(raw);
  if (!Array.isArray(body.items) || body.items.length === 0) {
    throw badRequest('items needed', 'invalid_items');
  }
  const items = body.items.map((item, index) => parseItem(item, index));
  if (new Set(items.map((item) => item.currencyId)).size > 1) {
    throw badRequest('all items must have the same currency_id', 'invalid_items');
  }
  return {
    id,
    items,
    externalReference: optionalString(body.external_reference, 'external_reference') ?? '',
    notificationUrl: optionalUrl(body.notification_url, 'notification_url'),
    backUrls: parseBackUrls(body.back_urls),
    autoReturn: optionalString(body.auto_return, 'auto_return') ?? '',
    binaryMode: body.binary_mode === true,
    expires: body.expires === true,
    expirationDateFrom: optionalString(body.expiration_date_from, 'expiration_date_from'),
    expirationDateTo: optionalString(body.expiration_date_to, 'expiration_date_to'),
    dateOfExpiration: optionalString(body.date_of_expiration, 'date_of_expiration'),
    statementDescriptor: optionalString(body.statement_descriptor, 'statement_descriptor'),
    metadata: asRecord(body.metadata),
    payer: asRecord(body.payer),
    dateCreated: now,
  };
}

function parseItem(raw: unknown, index: number): StoredItem {
  const item = asRecord(raw);
  const title = item.title;
  if (typeof title !== 'string' || title.trim() === '') {
    throw badRequest(`items[${index}].title is required`, 'invalid_items');
  }
  const quantity = item.quantity;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw badRequest(`items[${index}].quantity must be a positive integer`, 'invalid_items');
  }
  const currencyId = item.currency_id ?? 'ARS';
  if (!isEmulatedCurrency(currencyId)) throw badRequest(`items[${index}].currency_id invalid`, 'invalid_items');
  const unitPriceMinor = decimalToMinor(item.unit_price, currencyId);
  if (unitPriceMinor === undefined || unitPriceMinor <= 0) {
    throw badRequest(`items[${index}].unit_price invalid for ${currencyId}`, 'invalid_items');
  }
  return {
    id: typeof item.id === 'string' ? item.id : '',
    title,
    description: typeof item.description === 'string' ? item.description : '',
    categoryId: typeof item.category_id === 'string' ? item.category_id : '',
    pictureUrl: typeof item.picture_url === 'string' ? item.picture_url : undefined,
    quantity,
    unitPriceMinor,
    currencyId,
  };
}

function parseBackUrls(raw: unknown): BackUrls {
  const urls = asRecord(raw);
  return {
    success: optionalUrl(urls.success, 'back_urls.success'),
    pending: optionalUrl(urls.pending, 'back_urls.pending'),
    failure: optionalUrl(urls.failure, 'back_urls.failure'),
  };
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`, 'invalid_parameter');
  return value;
}

function optionalUrl(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field);
  if (text === undefined || text === '') return undefined;
  if (!URL.canParse(text)) throw badRequest(`${field} must be a valid url`, 'invalid_url');
  return text;
}

export function preferenceTotalMinor(items: StoredItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPriceMinor, 0);
}

/** Every item has the same currency (parsePreferenceBody checks it). */
export function preferenceCurrency(items: StoredItem[]): string {
  return items[0]?.currencyId ?? 'ARS';
}
