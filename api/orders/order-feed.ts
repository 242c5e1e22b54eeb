import { EventEmitter } from 'node:events';
import pg from 'pg';
import { ORDER_CHANNEL } from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';

const CLOSE = Symbol('close');
const LISTENING = Symbol('listening');

export interface OrderChange {
  orderId: string;
  businessId: string;
  seq: number;
  type: string;
  fromStatus: string | null;
  status: string;
  occurredAt: string;
}

const businessKey = (businessId: string) => `business:${businessId}`;
const orderKey = (orderId: string) => `order:${orderId}`;

/**
 * Fans order changes out to live screens. The activities that write the read model NOTIFY in
 * the same transaction, so every API replica hears every committed change; one LISTEN
 * connection per process, reconnecting with backoff when Postgres goes away.
 *
 * Notifications sent while the connection is down are lost, so losing it ends every open
 * stream (`onClose`): clients reconnect and read the current state again instead of missing a step.
 */
export class OrderFeed {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private connecting = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Every change to a café's orders. `onClose` runs when the feed shuts down or loses Postgres. */
  subscribe(businessId: string, listener: (change: OrderChange) => void, onClose: () => void): () => void {
    return this.on(businessKey(businessId), listener, onClose);
  }

  /** Every change to one order. */
  subscribeToOrder(orderId: string, listener: (change: OrderChange) => void, onClose: () => void): () => void {
    return this.on(orderKey(orderId), listener, onClose);
  }

  /**
   * Resolves once LISTEN is active, so what a stream reads after it cannot miss a change that is
   * committed later; rejects after `timeoutMs` while Postgres is unreachable.
   */
  async listening(timeoutMs = 5000): Promise<void> {
    if (this.client) return;
    if (!this.retryTimer) void this.connect(0);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.emitter.off(LISTENING, done);
        reject(new Error('order feed is not listening'));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.emitter.once(LISTENING, done);
    });
  }

  private on(key: string, listener: (change: OrderChange) => void, onClose: () => void): () => void {
    if (!this.client && !this.retryTimer) void this.connect(0);
    this.emitter.on(key, listener);
    this.emitter.on(CLOSE, onClose);
    return () => {
      this.emitter.off(key, listener);
      this.emitter.off(CLOSE, onClose);
    };
  }

  private async connect(attempt: number): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed || this.connecting || this.client) return;
    this.connecting = true;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'cafe-flow-order-feed' });
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'order feed connection lost');
      this.reconnect(client, attempt + 1);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ORDER_CHANNEL}`);
      this.client = client;
      this.emitter.emit(LISTENING);
    } catch (error) {
      this.logger.warn({ err: error }, 'order feed could not listen');
      this.reconnect(client, attempt + 1);
    } finally {
      this.connecting = false;
    }
  }

  private reconnect(client: pg.Client, attempt: number): void {
    if (this.client === client) {
      this.client = undefined;
      // Changes may be missed from now on: open streams end, and their clients read afresh.
      this.emitter.emit(CLOSE);
    }
    void client.end().catch(() => undefined);
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => void this.connect(attempt), Math.min(30_000, 500 * 2 ** attempt));
    this.retryTimer.unref();
  }

  private dispatch(payload: string | undefined): void {
    if (!payload) return;
    try {
      const change = JSON.parse(payload) as OrderChange;
      this.emitter.emit(businessKey(change.businessId), change);
      this.emitter.emit(orderKey(change.orderId), change);
    } catch (error) {
      this.logger.warn({ err: error }, 'order feed got an unreadable notification');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.emitter.emit(CLOSE);
    this.emitter.removeAllListeners();
    await this.client?.end().catch(() => undefined);
  }
}
