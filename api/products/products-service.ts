import type { Db } from '../../db/knex';
import { findBusiness } from '../../db/repositories/businesses';
import * as products from '../../db/repositories/products';
import { exponentOf } from '../../lib/currencies';
import { notFound } from '../../lib/errors';
import { MANAGERS, requireRole } from '../businesses/access';

export type ProductsService = ReturnType<typeof createProductsService>;

export function createProductsService({ db }: { db: Db }) {
  // Prices are minor units of the café's currency; the exponent tells a menu how to show them.
  const withCurrency = (product: products.Product, currency: string) => ({
    ...product,
    currency,
    currencyExponent: exponentOf(currency),
  });

  async function currencyOf(businessId: string): Promise<string> {
    const business = await findBusiness(db, businessId);
    if (!business) throw notFound('Business');
    return business.currency;
  }

  return {
    async create(userId: string, businessId: string, input: products.ProductInput) {
      await requireRole(db, businessId, userId, MANAGERS);
      const currency = await currencyOf(businessId);
      return withCurrency(await products.insertProduct(db, businessId, input), currency);
    },

    /** The menu: readable by any signed-in user, since customers order from it. */
    async list(businessId: string, filter: { availableOnly?: boolean }) {
      const currency = await currencyOf(businessId);
      const items = await products.listProducts(db, businessId, filter);
      return items.map((item) => withCurrency(item, currency));
    },

    async update(userId: string, businessId: string, productId: string, patch: Partial<products.ProductInput>) {
      await requireRole(db, businessId, userId, MANAGERS);
      const product = await products.updateProduct(db, businessId, productId, patch);
      if (!product) throw notFound('Product');
      return withCurrency(product, await currencyOf(businessId));
    },

    async remove(userId: string, businessId: string, productId: string) {
      await requireRole(db, businessId, userId, MANAGERS);
      if (!(await products.softDeleteProduct(db, businessId, productId))) throw notFound('Product');
    },
  };
}
