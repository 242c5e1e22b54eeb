import { EventEmitter } from 'node:events';
import pg from 'pg';
import { ORDER_CHANNEL } from '../../db/repositories/orders';
import type { Logger } from '../../lib/logger';

const CLOSE = Symbol('close');

export interface OrderChange {
  orderId: string;
  businessId: string;
  seq: number;
  type: string;
  fromStatus: string | null;
  status: string;
  occurredAt: string;
}

/**
 * Fans order changes out to live screens. The activities that write the read model NOTIFY in
 * the same transaction, so every API replica hears every committed change; one LISTEN
 * connection per process, reconnecting with backoff when Postgres goes away.
 */
export class OrderFeed {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** `onClose` runs when the feed shuts down, so open streams end and the server can stop. */
  subscribe(businessId: string, listener: (change: OrderChange) => void, onClose: () => void): () => void {
    if (!this.client && !this.retryTimer) void this.connect(0);
    this.emitter.on(businessId, listener);
    this.emitter.on(CLOSE, onClose);
    return () => {
      this.emitter.off(businessId, listener);
      this.emitter.off(CLOSE, onClose);
    };
  }

  private async connect(attempt: number): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed) return;
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
    } catch (error) {
      this.logger.warn({ err: error }, 'order feed could not listen');
      this.reconnect(client, attempt + 1);
    }
  }

  private reconnect(client: pg.Client, attempt: number): void {
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => void this.connect(attempt), Math.min(30_000, 500 * 2 ** attempt));
    this.retryTimer.unref();
  }

  private dispatch(payload: string | undefined): void {
    if (!payload) return;
    try {
      const change = JSON.parse(payload) as OrderChange;
      this.emitter.emit(change.businessId, change);
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
