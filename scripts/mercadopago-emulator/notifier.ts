import { buildNotification, type NotificationKind, type NotificationSpec, type NotificationTopic } from './notification-builder';
import { NotificationFaults } from './notification-faults';
import { sleep } from './http';
import type { EmulatorLog } from './types';

export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface NotificationRecord {
  seq: number;
  notificationId: number;
  kind: NotificationKind;
  topic: NotificationTopic;
  action?: string;
  dataId: string;
  url: string;
  requestId: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  state: 'held' | 'delivering' | 'delivered' | 'failed' | 'dropped' | 'suppressed';
  faults: string[];
  /** Set on the extra copies of a duplicated notification: the seq of the original. */
  duplicateOf?: number;
  attempts: DeliveryAttempt[];
  createdAt: string;
}

export interface DeliveryPolicy {
  /** Total attempts per notification, first one included. */
  attempts: number;
  /** Backoff before retry n is baseDelayMs * 2^(n-1). */
  baseDelayMs: number;
  timeoutMs: number;
}

export interface NotifierOptions {
  secret: string;
  userId: number;
  publicUrl: string;
  deliver: boolean;
  delivery: DeliveryPolicy;
  tsUnit: 'seconds' | 'milliseconds';
  log: EmulatorLog;
}

export type ReleaseOrder = 'fifo' | 'reverse' | 'shuffle';

/**
 * Sends notifications the way MercadoPago does (async, retried with backoff on non-2xx) and lets
 * tests misbehave on purpose: drop, duplicate, delay, hold-and-reorder, forge or age signatures.
 */
export class Notifier {
  readonly faults = new NotificationFaults();
  private log: NotificationRecord[] = [];
  private held: NotificationRecord[] = [];
  private inflight = new Set<Promise<void>>();
  private nextSeq = 1;
  private nextNotificationId = Math.floor(Date.now() / 1000) * 10;
  // Bumped by reset() so deliveries of a previous test stop retrying into the next one.
  private generation = 0;

  constructor(private readonly options: NotifierOptions) {}

  setDelivery(deliver: boolean): void {
    this.options.deliver = deliver;
  }

  /** Builds, applies faults and delivers; resolves once every copy's delivery finished (or was held/dropped). */
  notify(spec: NotificationSpec, force = false): Promise<NotificationRecord[]> {
    return this.track(this.notifyNow(spec, force));
  }

  private async notifyNow(spec: NotificationSpec, force: boolean): Promise<NotificationRecord[]> {
    const effects = this.faults.take();
    const notificationId = this.nextNotificationId++;
    const request = buildNotification(
      { ...spec, signature: spec.signature ?? effects.signature, staleSeconds: spec.staleSeconds ?? effects.staleSeconds },
      {
        secret: this.options.secret,
        userId: this.options.userId,
        notificationId,
        tsUnit: this.options.tsUnit,
        publicUrl: this.options.publicUrl,
        now: Date.now(),
      },
    );
    const records: NotificationRecord[] = [];
    for (let copy = 0; copy < effects.copies; copy++) {
      records.push(this.record(spec, request, notificationId, effects.applied, records[0]?.seq));
    }
    await Promise.all(records.map((record) => this.dispatch(record, effects, force)));
    return records;
  }

  async release(order: ReleaseOrder): Promise<number> {
    this.faults.stopHolding();
    const batch = arrange(this.held.splice(0), order);
    // One after the other, so the receiver sees exactly the requested order.
    for (const record of batch) await this.track(this.deliver(record, this.generation));
    return batch.length;
  }

  records(): NotificationRecord[] {
    return [...this.log];
  }

  heldCount(): number {
    return this.held.length;
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  reset(): void {
    this.generation++;
    this.log = [];
    this.held = [];
    this.faults.clear();
  }

  private record(
    spec: NotificationSpec,
    request: ReturnType<typeof buildNotification>,
    notificationId: number,
    faults: string[],
    duplicateOf: number | undefined,
  ): NotificationRecord {
    const record: NotificationRecord = {
      seq: this.nextSeq++,
      notificationId,
      kind: spec.kind,
      topic: spec.topic,
      action: spec.kind === 'webhook' ? String(request.body.action) : undefined,
      dataId: spec.dataId,
      url: request.url,
      requestId: request.requestId,
      headers: request.headers,
      body: request.body,
      state: 'delivering',
      faults,
      duplicateOf,
      attempts: [],
      createdAt: new Date().toISOString(),
    };
    this.log.push(record);
    return record;
  }

  private async dispatch(
    record: NotificationRecord,
    effects: ReturnType<NotificationFaults['take']>,
    force: boolean,
  ): Promise<void> {
    if (effects.drop) return void (record.state = 'dropped');
    if (!this.options.deliver && !force) return void (record.state = 'suppressed');
    if (effects.hold) {
      record.state = 'held';
      this.held.push(record);
      return;
    }
    const generation = this.generation;
    if (effects.delayMs > 0) await sleep(effects.delayMs);
    await this.deliver(record, generation);
  }

  private async deliver(record: NotificationRecord, generation: number): Promise<void> {
    const { attempts, baseDelayMs } = this.options.delivery;
    record.state = 'delivering';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (generation !== this.generation) return;
      if (attempt > 1) await sleep(baseDelayMs * 2 ** (attempt - 2));
      if (await this.attempt(record)) {
        record.state = 'delivered';
        return;
      }
    }
    record.state = 'failed';
    this.options.log('notification.failed', { seq: record.seq, url: record.url, attempts: record.attempts.length });
  }

  private async attempt(record: NotificationRecord): Promise<boolean> {
    const at = new Date().toISOString();
    try {
      const response = await fetch(record.url, {
        method: 'POST',
        headers: record.headers,
        body: JSON.stringify(record.body),
        signal: AbortSignal.timeout(this.options.delivery.timeoutMs),
      });
      await response.arrayBuffer();
      record.attempts.push({ at, status: response.status });
      this.options.log('notification.sent', { seq: record.seq, url: record.url, status: response.status });
      return response.ok;
    } catch (error) {
      record.attempts.push({ at, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
    return promise;
  }
}

function arrange<T>(items: T[], order: ReleaseOrder): T[] {
  if (order === 'reverse') return items.reverse();
  if (order === 'shuffle') {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
  }
  return items;
}
