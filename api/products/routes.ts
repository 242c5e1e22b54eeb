import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import { BusinessIdParams } from '../businesses/schemas';
import type { ProductsService } from './products-service';

// A price is whole minor units of the café's currency (lib/currencies.ts): 350 is 3.50 ARS, or 350 CLP.
const PriceMinor = z.number().int().min(0).max(100_000_000);

const ProductInputSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    description: z.string().trim().max(1000).nullable().optional(),
    category: z.string().trim().min(1).max(60).nullable().optional(),
    priceMinor: PriceMinor,
    available: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'ProductInput' });

const ProductPatchSchema = ProductInputSchema.partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'Send at least one field to change')
  .meta({ id: 'ProductPatch' });

const ProductSchema = z
  .object({
    id: z.uuid(),
    businessId: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    category: z.string().nullable(),
    priceMinor: z.number().int(),
    currency: z.string(),
    currencyExponent: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Decimals of `currency`: priceMinor 350 is 3.50 when 2, 350 when 0' }),
    available: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Product' });

const ProductParams = BusinessIdParams.extend({ productId: z.uuid() });
const notFound = { description: 'No such business or product, or you have no role in it (NOT_FOUND)' };

export function registerProductRoutes(api: ApiRoutes, service: ProductsService): void {
  api.add({
    method: 'post',
    path: '/v1/businesses/:businessId/products',
    operationId: 'createProduct',
    summary: 'Add a product to the menu (owner, manager)',
    tags: ['menu'],
    auth: 'user',
    params: BusinessIdParams,
    body: ProductInputSchema,
    responses: { 201: { description: 'Created', schema: ProductSchema }, 403: { description: 'Role too low' }, 404: notFound },
    handler: async (ctx, { params, body, user }) => {
      ctx.state.businessId = params.businessId;
      return { status: 201, body: await service.create(user.userId, params.businessId, body) };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId/products',
    operationId: 'listProducts',
    summary: 'The menu (any signed-in user)',
    tags: ['menu'],
    auth: 'user',
    params: BusinessIdParams,
    query: z.object({ available: z.enum(['true', 'false']).optional() }).strict(),
    responses: { 200: { description: 'Products', schema: z.object({ data: z.array(ProductSchema) }) }, 404: notFound },
    handler: async (_ctx, { params, query }) => ({
      body: { data: await service.list(params.businessId, { availableOnly: query.available === 'true' }) },
    }),
  });

  api.add({
    method: 'patch',
    path: '/v1/businesses/:businessId/products/:productId',
    operationId: 'updateProduct',
    summary: 'Change a product, e.g. its price or availability (owner, manager)',
    tags: ['menu'],
    auth: 'user',
    params: ProductParams,
    body: ProductPatchSchema,
    responses: { 200: { description: 'Updated', schema: ProductSchema }, 403: { description: 'Role too low' }, 404: notFound },
    handler: async (ctx, { params, body, user }) => {
      ctx.state.businessId = params.businessId;
      return { body: await service.update(user.userId, params.businessId, params.productId, body) };
    },
  });

  api.add({
    method: 'delete',
    path: '/v1/businesses/:businessId/products/:productId',
    operationId: 'deleteProduct',
    summary: 'Remove a product from the menu (owner, manager); past orders keep it',
    tags: ['menu'],
    auth: 'user',
    params: ProductParams,
    responses: { 204: { description: 'Removed' }, 403: { description: 'Role too low' }, 404: notFound },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      await service.remove(user.userId, params.businessId, params.productId);
      return { status: 204 };
    },
  });
}
