import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import type { Db } from '../../db/knex';
import * as orders from '../../db/repositories/orders';
import { conflict, forbidden, notFound, unavailable } from '../../lib/errors';
import {
  OrderFailure,
  acceptUpdate,
  cancelUpdate,
  completeUpdate,
  orderWorkflowId,
  placeUpdate,
  readyUpdate,
  type Actor,
  type OrderAction,
  type OrderInput,
} from '../../workflows/orders/contracts';
import type { processOrder } from '../../workflows/orders/order-workflow';
import { BUSINESS_ID_KEY, ORDER_STATUS_KEY } from '../../workflows/orders/search-attributes';
import { STAFF, requireRole } from '../businesses/access';
import { decodeCursor, encodeCursor } from './cursor';
import { fromEvent, fromRow, fromView, orderIdFor, paymentTimes, requestHash } from './order-mapping';
import { priceOrder } from './pricing';
import type { OrderResponse, PlaceOrderBody } from './schemas';

export interface OrdersSettings {
  taskQueue: string;
  paymentTimeoutSeconds: number;
  acceptTimeoutSeconds: number;
}

export type OrdersService = ReturnType<typeof createOrdersService>;

const failureType = (error: unknown): string | undefined => {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
};

const actionUpdates = { accept: acceptUpdate, ready: readyUpdate, complete: completeUpdate } as const;

export function createOrdersService({ db, temporal, settings }: { db: Db; temporal: Client; settings: OrdersSettings }) {
  /** A repeat of a placed order: same body answers the order, another body is a conflict. */
  async function existing(orderId: string, hash: string): Promise<OrderResponse | undefined> {
    const row = await orders.findOrder(db, orderId);
    // A row still without its checkout belongs to a placement that has not answered (or failed and
    // may be retried): only the workflow can say which.
    if (!row || (row.status === 'pending_payment' && !row.checkoutUrl)) return undefined;
    if (row.requestHash !== hash) {
      throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different order');
    }
    return fromRow(row, await orders.findOrderItems(db, orderId), settings.acceptTimeoutSeconds);
  }

  async function loadForActor(orderId: string, userId: string) {
    const row = await orders.findOrder(db, orderId);
    if (!row) throw notFound('Order');
    if (row.customerId === userId) return { row, asCustomer: true };
    await requireRole(db, row.businessId, userId, STAFF).catch(() => {
      throw notFound('Order');
    });
    return { row, asCustomer: false };
  }

  async function placeOnce(
    orderId: string,
    hash: string,
    customerId: string,
    businessId: string,
    idempotencyKey: string,
    body: PlaceOrderBody,
  ): Promise<{ order: OrderResponse; created: boolean }> {
    const known = await existing(orderId, hash);
    if (known) return { order: known, created: false };

    const { business, items, totalMinor } = await priceOrder(db, businessId, body);
    const input: OrderInput = {
      orderId,
      businessId,
      customerId,
      idempotencyKey,
      requestHash: hash,
      currency: business.currency,
      items,
      totalMinor,
      notes: body.notes ?? null,
      pickupName: body.pickupName ?? null,
      paymentTimeoutSeconds: business.paymentTimeoutSeconds ?? settings.paymentTimeoutSeconds,
      acceptTimeoutSeconds: settings.acceptTimeoutSeconds,
    };
    const workflowId = orderWorkflowId(businessId, orderId);
    const start = new WithStartWorkflowOperation<typeof processOrder>('processOrder', {
      workflowId,
      taskQueue: settings.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // An order id names one order forever: a finished order is never started again. Only a run
      // that failed before the order was recorded (OrderNotRecorded) may be started afresh.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: new TypedSearchAttributes([
        { key: BUSINESS_ID_KEY, value: businessId },
        { key: ORDER_STATUS_KEY, value: 'pending_payment' },
      ]),
      staticSummary: `${business.name}: ${items.length} item(s), ${totalMinor} ${business.currency} minor units`,
      staticDetails: items.map((item) => `${item.quantity} x ${item.name} @ ${item.unitPriceMinor}`).join('\n'),
      memo: { businessId, customerId, totalMinor, currency: business.currency },
    });
    try {
      const result = await temporal.workflow.executeUpdateWithStart(placeUpdate, {
        args: [{ requestHash: hash }],
        startWorkflowOperation: start,
      });
      return { order: fromView(result.order), created: result.created };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const repeat = await existing(orderId, hash);
        if (repeat) return { order: repeat, created: false };
      }
      const type = failureType(error);
      if (type === OrderFailure.IdempotencyKeyReused) {
        throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different order');
      }
      if (type === OrderFailure.OrderNotRecorded) {
        throw unavailable('SERVICE_UNAVAILABLE', 'The order could not be stored; retry with the same Idempotency-Key');
      }
      if (type === OrderFailure.PaymentSetupFailed) {
        throw unavailable('PAYMENT_PROVIDER_UNAVAILABLE', 'The payment provider is not answering; the order was not placed');
      }
      throw error;
    }
  }

  // Identical placements racing in this process share one round trip to Temporal; Temporal itself
  // still guarantees a single order across replicas (Update-with-Start on the order's id).
  const inflight = new Map<string, Promise<{ order: OrderResponse; created: boolean }>>();

  return {
    async place(
      customerId: string,
      businessId: string,
      idempotencyKey: string,
      body: PlaceOrderBody,
    ): Promise<{ order: OrderResponse; created: boolean }> {
      const orderId = orderIdFor(businessId, customerId, idempotencyKey);
      const hash = requestHash(body);
      const key = `${orderId}:${hash}`;
      const pending = inflight.get(key);
      if (pending) return { order: (await pending).order, created: false };
      const placing = placeOnce(orderId, hash, customerId, businessId, idempotencyKey, body);
      inflight.set(key, placing);
      try {
        return await placing;
      } finally {
        inflight.delete(key);
      }
    },

    async get(userId: string, orderId: string) {
      const { row } = await loadForActor(orderId, userId);
      const [items, events] = await Promise.all([orders.findOrderItems(db, orderId), orders.findOrderEvents(db, orderId)]);
      return { ...fromRow(row, items, settings.acceptTimeoutSeconds), events: events.map(fromEvent) };
    },

    async list(
      userId: string,
      filter: { businessId: string; status?: string; from?: string; to?: string; cursor?: string; limit: number },
    ) {
      await requireRole(db, filter.businessId, userId, STAFF);
      const rows = await orders.listOrders(db, {
        businessId: filter.businessId,
        status: filter.status,
        from: filter.from ? new Date(filter.from) : undefined,
        to: filter.to ? new Date(filter.to) : undefined,
        after: filter.cursor ? decodeCursor(filter.cursor) : undefined,
        limit: filter.limit + 1,
      });
      const page = rows.slice(0, filter.limit);
      const items = await Promise.all(page.map((row) => orders.findOrderItems(db, row.id)));
      const last = page[page.length - 1];
      return {
        data: page.map((row, i) => fromRow(row, items[i]!, settings.acceptTimeoutSeconds)),
        nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null,
      };
    },

    async act(userId: string, orderId: string, action: OrderAction, reason?: string): Promise<OrderResponse> {
      const { row, asCustomer } = await loadForActor(orderId, userId);
      const actor: Actor = asCustomer ? { kind: 'customer', userId } : { kind: 'staff', userId };
      if (asCustomer && action !== 'cancel') throw forbidden('Only staff of the café can do this');
      const handle = temporal.workflow.getHandle(row.workflowId);
      try {
        const view =
          action === 'cancel'
            ? await handle.executeUpdate(cancelUpdate, {
                args: [{ actor, reason: reason ?? (asCustomer ? 'customer_request' : 'staff_request') }],
              })
            : await handle.executeUpdate(actionUpdates[action], { args: [{ actor }] });
        return fromView(view, paymentTimes(row, settings.acceptTimeoutSeconds));
      } catch (error) {
        if (failureType(error) === OrderFailure.InvalidTransition || error instanceof WorkflowNotFoundError || isClosed(error)) {
          const current = (await orders.findOrder(db, orderId))?.status ?? row.status;
          throw conflict('INVALID_TRANSITION', `Cannot ${action} an order that is ${current}`, {
            status: current,
            action,
          });
        }
        throw error;
      }
    },

    /** Refuses anyone without a staff role (owner, manager, staff) in the café: the SSE feed's authorisation. */
    requireStaff: (userId: string, businessId: string) => requireRole(db, businessId, userId, STAFF),

    /** The order's customer only: anyone else, staff included, gets 404 as for an unknown id. */
    async requireCustomer(userId: string, orderId: string) {
      const row = await orders.findOrder(db, orderId);
      if (!row || row.customerId !== userId) throw notFound('Order');
      return row;
    },

    /** The order as its customer's live page shows it, with its events after `afterSeq`. */
    async customerView(userId: string, orderId: string, afterSeq = 0) {
      const row = await this.requireCustomer(userId, orderId);
      const [items, events] = await Promise.all([orders.findOrderItems(db, orderId), orders.findOrderEvents(db, orderId)]);
      return {
        order: fromRow(row, items, settings.acceptTimeoutSeconds),
        events: events.filter((event) => event.seq > afterSeq).map(fromEvent),
      };
    },
  };
}

const isClosed = (error: unknown) =>
  error instanceof Error && /workflow execution already completed|already completed/i.test(error.message);
