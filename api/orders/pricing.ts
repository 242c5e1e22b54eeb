import type { Executor } from '../../db/knex';
import { findBusiness } from '../../db/repositories/businesses';
import { findProducts } from '../../db/repositories/products';
import { isSupportedCurrency } from '../../lib/currencies';
import { notFound, unprocessable } from '../../lib/errors';
import type { OrderLine } from '../../workflows/orders/contracts';
import { normaliseItems } from './order-mapping';
import type { PlaceOrderBody } from './schemas';

// Above this a total no longer fits Postgres' integer column with room to spare.
const MAX_TOTAL_MINOR = 2_000_000_000;

/**
 * Prices an order from the café's menu, never from the client: unknown or unavailable products
 * and totals that cannot be paid are refused with 422 and a code the client can act on.
 */
export async function priceOrder(db: Executor, businessId: string, body: PlaceOrderBody) {
  const business = await findBusiness(db, businessId);
  if (!business) throw notFound('Business');
  // A café saved before the currency table existed: its prices cannot be charged at the right scale.
  if (!isSupportedCurrency(business.currency)) {
    throw unprocessable('UNSUPPORTED_CURRENCY', `MercadoPago does not settle ${business.currency}; change the café's currency`);
  }
  const wanted = normaliseItems(body.items);
  const found = await findProducts(
    db,
    businessId,
    wanted.map((item) => item.productId),
  );
  const products = new Map(found.map((product) => [product.id, product]));
  const items: OrderLine[] = wanted.map(({ productId, quantity }) => {
    const product = products.get(productId);
    if (!product) throw unprocessable('UNKNOWN_PRODUCT', `Product ${productId} is not on this menu`, { productId });
    if (!product.available) {
      throw unprocessable('PRODUCT_UNAVAILABLE', `${product.name} is not available right now`, { productId });
    }
    return {
      productId,
      name: product.name,
      unitPriceMinor: product.priceMinor,
      quantity,
      lineTotalMinor: product.priceMinor * quantity,
    };
  });
  const totalMinor = items.reduce((sum, item) => sum + item.lineTotalMinor, 0);
  if (totalMinor <= 0) throw unprocessable('EMPTY_ORDER_TOTAL', 'An order must cost something to be paid');
  if (totalMinor > MAX_TOTAL_MINOR) throw unprocessable('ORDER_TOO_LARGE', 'The order total is too large');
  return { business, items, totalMinor };
}
