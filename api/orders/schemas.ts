import { z } from 'zod';
import { ORDER_ACTIONS, ORDER_STATUSES } from '../../workflows/orders/contracts';

export const MAX_LINES = 50;
export const MAX_QUANTITY = 99;

export const PlaceOrderSchema = z
  .object({
    items: z
      .array(
        z
          .object({
            productId: z.uuid(),
            quantity: z.number().int().min(1).max(MAX_QUANTITY),
          })
          .strict(),
      )
      .min(1, 'An order needs at least one item')
      .max(MAX_LINES),
    notes: z.string().trim().max(500).nullable().optional(),
    pickupName: z.string().trim().min(1).max(80).nullable().optional(),
  })
  .strict()
  .meta({ id: 'PlaceOrderInput' });

export type PlaceOrderBody = z.output<typeof PlaceOrderSchema>;

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string({ error: 'The Idempotency-Key header is required' })
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 _ . : -'),
});

export const OrderIdParams = z.object({ orderId: z.uuid() });
export const ActionParams = OrderIdParams.extend({ action: z.enum(ORDER_ACTIONS) });
export const ActionBody = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .meta({ id: 'OrderActionInput' });

export const OrderListQuery = z
  .object({
    status: z.enum(ORDER_STATUSES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .strict();

const OrderLineSchema = z.object({
  productId: z.uuid(),
  name: z.string(),
  unitPriceMinor: z.number().int(),
  quantity: z.number().int(),
  lineTotalMinor: z.number().int(),
});

export const OrderSchema = z
  .object({
    id: z.uuid(),
    businessId: z.uuid(),
    customerId: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    currency: z.string(),
    items: z.array(OrderLineSchema),
    totalMinor: z
      .number()
      .int()
      .meta({ description: 'Total in integer minor units of `currency` (2 decimals for ARS, none for CLP and COP)' }),
    notes: z.string().nullable(),
    pickupName: z.string().nullable(),
    placedAt: z.string(),
    payment: z.object({
      provider: z.literal('mercadopago'),
      amountMinor: z.number().int(),
      currency: z.string(),
      deadline: z.string(),
      preferenceId: z.string().nullable(),
      checkoutUrl: z.string().nullable(),
    }),
    paymentId: z.string().nullable(),
    refundId: z.string().nullable(),
    cancelReason: z.string().nullable(),
    paidAt: z.string().nullable().meta({ description: 'When the payment was approved; null until then' }),
    acceptDeadline: z
      .string()
      .nullable()
      .meta({ description: 'Staff must accept by then or the order is cancelled and refunded; null until paid' }),
  })
  .meta({ id: 'Order' });

export type OrderResponse = z.infer<typeof OrderSchema>;
