import { z } from 'zod';
import { unavailable } from '../../lib/errors';
import { TERMINAL_STATUSES, type OrderStatus } from '../../workflows/orders/contracts';
import { BusinessIdParams } from '../businesses/schemas';
import type { AppContext } from '../http/context';
import type { ApiRoutes } from '../http/routes';
import type { OrderChange, OrderFeed } from './order-feed';
import type { OrdersService } from './orders-service';
import { OrderIdParams } from './schemas';
import { openEventStream, stillPasses, StreamLimiter, type StreamSettings } from './streams';

const eventStream = (description: string) => ({ description, schema: z.string(), contentType: 'text/event-stream' });

const tooMany = { description: 'Too many open streams for this user (TOO_MANY_STREAMS), or rate limited (RATE_LIMITED)' };

/** Without LISTEN a stream would miss changes silently: better a 503 the client retries. */
async function whenListening(feed: OrderFeed): Promise<void> {
  await feed.listening().catch(() => {
    throw unavailable('SERVICE_UNAVAILABLE', 'The live feed is not available right now; retry shortly');
  });
}

/**
 * The live feeds: every change to a café's orders for its staff, and one order for its customer.
 * Both ride on the same LISTEN/NOTIFY fan-out, so they work across API replicas.
 */
export function registerStreamRoutes(api: ApiRoutes, service: OrdersService, feed: OrderFeed, settings: StreamSettings): void {
  const limiter = new StreamLimiter(settings.maxPerUser);

  /** A stream slot of the user's (429 past the cap), held only once the feed listens (else 503). */
  async function reserveStream(userId: string): Promise<() => void> {
    const release = limiter.acquire(userId);
    try {
      await whenListening(feed);
      return release;
    } catch (error) {
      release();
      throw error;
    }
  }

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId/orders/stream',
    operationId: 'streamOrders',
    summary: "Server-Sent Events: every change to the café's orders as it happens (staff)",
    tags: ['orders'],
    auth: 'user',
    params: BusinessIdParams,
    responses: {
      200: eventStream(
        'An event stream; each `order` event carries {orderId, seq, type, status, occurredAt}. An `end` event ' +
          '{reason} closes it: ACCESS_REVOKED when you are no longer staff, RECONNECT when the server needs you to ' +
          'reconnect and read the orders again.',
      ),
      404: { description: 'No such business, or you are not its staff (NOT_FOUND)' },
      429: tooMany,
      503: { description: 'The live feed cannot listen to Postgres right now (SERVICE_UNAVAILABLE)' },
    },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      await service.requireStaff(user.userId, params.businessId);
      const release = await reserveStream(user.userId);
      const stream = openEventStream(ctx, {
        settings,
        stillAllowed: () => stillPasses(() => service.requireStaff(user.userId, params.businessId)),
        onEnd: () => {
          unsubscribe();
          release();
        },
      });
      const unsubscribe = feed.subscribe(
        params.businessId,
        (change) => stream.send('order', change, `${change.orderId}:${change.seq}`),
        () => stream.end('RECONNECT'),
      );
      return stream.reply;
    },
  });

  api.add({
    method: 'get',
    path: '/v1/orders/:orderId/stream',
    operationId: 'streamOrder',
    summary: 'Server-Sent Events: one order as it changes, for its customer',
    tags: ['orders'],
    auth: 'user',
    params: OrderIdParams,
    responses: {
      200: eventStream(
        'An event stream of `order` events, each {order, events}: the order as it is now and the history entries ' +
          'since the previous one (the first carries the whole history). It closes with an `end` event {reason} ' +
          'after the order reaches completed, cancelled, expired or refunded (ORDER_FINISHED), or RECONNECT.',
      ),
      404: { description: 'No such order, or not yours: staff use the café feed (NOT_FOUND)' },
      429: tooMany,
      503: { description: 'The live feed cannot listen to Postgres right now (SERVICE_UNAVAILABLE)' },
    },
    handler: async (ctx, { params, user }) => {
      const row = await service.requireCustomer(user.userId, params.orderId);
      ctx.state.businessId = row.businessId;
      const release = await reserveStream(user.userId);
      return customerStream(ctx, service, feed, settings, { userId: user.userId, orderId: params.orderId, release });
    },
  });
}

/**
 * Subscribes first and reads second, so a change committed in between is not lost; every send
 * reads the order again and carries the events after the last one sent, so none is repeated.
 */
function customerStream(
  ctx: AppContext,
  service: OrdersService,
  feed: OrderFeed,
  settings: StreamSettings,
  viewer: { userId: string; orderId: string; release: () => void },
) {
  let lastSeq = 0;
  let sending = Promise.resolve();
  const stream = openEventStream(ctx, {
    settings,
    stillAllowed: () => stillPasses(() => service.requireCustomer(viewer.userId, viewer.orderId)),
    onEnd: () => {
      unsubscribe();
      viewer.release();
    },
  });

  async function sendCurrent(): Promise<void> {
    const view = await service.customerView(viewer.userId, viewer.orderId, lastSeq);
    const newest = view.events[view.events.length - 1];
    if (lastSeq > 0 && !newest) return;
    if (newest) lastSeq = newest.seq;
    stream.send('order', view, String(lastSeq));
    if (TERMINAL_STATUSES.includes(view.order.status as OrderStatus)) stream.end('ORDER_FINISHED');
  }

  // One read at a time, in order: a burst of changes never sends events twice or out of order.
  const queue = () => {
    sending = sending.then(sendCurrent).catch((error: unknown) => {
      ctx.state.log.warn({ err: error }, 'customer order stream could not read the order');
      stream.end('RECONNECT');
    });
  };
  const unsubscribe = feed.subscribeToOrder(
    viewer.orderId,
    (change: OrderChange) => {
      if (change.seq > lastSeq) queue();
    },
    () => stream.end('RECONNECT'),
  );
  queue();
  return stream.reply;
}
