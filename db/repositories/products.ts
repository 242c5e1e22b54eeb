import type { Executor } from '../knex';
import { ProductModel } from '../models';

export interface Product {
  id: string;
  businessId: string;
  name: string;
  description: string | null;
  category: string | null;
  priceMinor: number;
  available: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ProductInput = Pick<Product, 'name' | 'priceMinor'> &
  Partial<Pick<Product, 'description' | 'category' | 'available'>>;

const toProduct = (row: ProductModel): Product => ({
  id: row.id,
  businessId: row.businessId,
  name: row.name,
  description: row.description,
  category: row.category,
  priceMinor: row.priceMinor,
  available: row.available,
  createdAt: row.createdAt as Date,
  updatedAt: row.updatedAt as Date,
});

const live = (db: Executor, businessId: string) => ProductModel.query(db).where({ businessId }).whereNull('deletedAt');

export async function insertProduct(db: Executor, businessId: string, input: ProductInput): Promise<Product> {
  return toProduct(
    await ProductModel.query(db)
      .insert({ ...input, businessId })
      .returning('*'),
  );
}

export async function listProducts(
  db: Executor,
  businessId: string,
  filter: { availableOnly?: boolean } = {},
): Promise<Product[]> {
  const query = live(db, businessId).orderBy([{ column: 'category' }, { column: 'name' }, { column: 'id' }]);
  if (filter.availableOnly) query.where({ available: true });
  return (await query).map(toProduct);
}

export async function findProducts(db: Executor, businessId: string, ids: string[]): Promise<Product[]> {
  return (await live(db, businessId).whereIn('id', ids)).map(toProduct);
}

export async function updateProduct(
  db: Executor,
  businessId: string,
  id: string,
  patch: Partial<ProductInput>,
): Promise<Product | undefined> {
  const [row] = await live(db, businessId)
    .where({ id })
    .patch({ ...patch, updatedAt: new Date() })
    .returning('*');
  return row && toProduct(row as unknown as ProductModel);
}

export async function softDeleteProduct(db: Executor, businessId: string, id: string): Promise<boolean> {
  const count = await live(db, businessId).where({ id }).patch({ deletedAt: new Date() });
  return count > 0;
}
