import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import { BusinessIdParams } from '../businesses/schemas';
import type { OrderFeed } from './order-feed';
import type { OrdersService } from './orders-service';
import { registerStreamRoutes } from './stream-routes';
import type { StreamSettings } from './streams';
import {
  ActionBody,
  ActionParams,
  IdempotencyHeaders,
  OrderIdParams,
  OrderListQuery,
  OrderSchema,
  PlaceOrderSchema,
} from './schemas';

const EventSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
});

export function registerOrderRoutes(api: ApiRoutes, service: OrdersService, feed: OrderFeed, streams: StreamSettings): void {
  api.add({
    method: 'post',
    path: '/v1/businesses/:businessId/orders',
    operationId: 'placeOrder',
    summary: 'Place an order (idempotent per Idempotency-Key); prices come from the menu',
    tags: ['orders'],
    auth: 'user',
    params: BusinessIdParams,
    headers: IdempotencyHeaders,
    body: PlaceOrderSchema,
    responses: {
      201: { description: 'Order placed; pay it at payment.checkoutUrl before payment.deadline', schema: OrderSchema },
      200: { description: 'The same request again: the order it placed', schema: OrderSchema },
      404: { description: 'No such business (NOT_FOUND)' },
      409: { description: 'Idempotency-Key used before with a different body (IDEMPOTENCY_KEY_REUSED)' },
      422: { description: 'UNKNOWN_PRODUCT, PRODUCT_UNAVAILABLE, EMPTY_ORDER_TOTAL, ORDER_TOO_LARGE' },
      503: { description: 'Payment provider or Temporal unavailable (PAYMENT_PROVIDER_UNAVAILABLE, SERVICE_UNAVAILABLE)' },
    },
    handler: async (ctx, { params, headers, body, user }) => {
      ctx.state.businessId = params.businessId;
      const { order, created } = await service.place(user.userId, params.businessId, headers['idempotency-key'], body);
      return { status: created ? 201 : 200, body: order, headers: { Location: `/v1/orders/${order.id}` } };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/orders/:orderId',
    operationId: 'getOrder',
    summary: 'An order with its history (its customer, or staff of its café)',
    tags: ['orders'],
    auth: 'user',
    params: OrderIdParams,
    responses: {
      200: { description: 'The order', schema: OrderSchema.extend({ events: z.array(EventSchema) }) },
      404: { description: 'No such order, or not yours (NOT_FOUND)' },
    },
    handler: async (_ctx, { params, user }) => ({ body: await service.get(user.userId, params.orderId) }),
  });

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId/orders',
    operationId: 'listOrders',
    summary: "The café's orders, newest first, keyset-paginated (staff)",
    tags: ['orders'],
    auth: 'user',
    params: BusinessIdParams,
    query: OrderListQuery,
    responses: {
      200: {
        description: 'A page of orders',
        schema: z.object({ data: z.array(OrderSchema), nextCursor: z.string().nullable() }),
      },
      404: { description: 'No such business, or you are not its staff (NOT_FOUND)' },
    },
    handler: async (ctx, { params, query, user }) => {
      ctx.state.businessId = params.businessId;
      return { body: await service.list(user.userId, { businessId: params.businessId, ...query }) };
    },
  });

  api.add({
    method: 'post',
    path: '/v1/orders/:orderId/actions/:action',
    operationId: 'orderAction',
    summary: 'accept | ready | complete (staff); cancel (staff, or its customer while pending_payment or paid)',
    tags: ['orders'],
    auth: 'user',
    params: ActionParams,
    body: ActionBody,
    responses: {
      200: { description: 'The order after the action', schema: OrderSchema },
      403: { description: 'Customers may only cancel (FORBIDDEN)' },
      404: { description: 'No such order, or not yours (NOT_FOUND)' },
      409: { description: 'Not possible in the current status (INVALID_TRANSITION); details.status is the current one' },
    },
    handler: async (_ctx, { params, body, user }) => ({
      body: await service.act(user.userId, params.orderId, params.action, body.reason),
    }),
  });

  registerStreamRoutes(api, service, feed, streams);
}
