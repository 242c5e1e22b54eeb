import { ApiFaults } from './api-faults';
import { IdempotencyCache } from './idempotency';
import { Notifier, type DeliveryPolicy } from './notifier';
import type { RenderContext } from './render';
import { EmulatorStore } from './store';
import type { EmulatorLog, StoredPayment } from './types';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  authorized: boolean;
  idempotencyKey?: string;
  body: unknown;
  status: number;
  idempotentReplay: boolean;
  /** Id of the injected API fault that answered (or slowed) this call. */
  faultId?: number;
  durationMs: number;
}

export interface EmulatorSettings {
  accessTokens: string[];
  webhookSecret: string;
  collectorId: number;
  defaultNotificationUrl?: string;
  log: EmulatorLog;
}

/** Everything the route modules share: one object, built once per emulator instance. */
export class EmulatorState {
  readonly store: EmulatorStore;
  readonly notifier: Notifier;
  readonly idempotency = new IdempotencyCache();
  readonly apiFaults = new ApiFaults();
  readonly requestLog: RequestLogEntry[] = [];
  readonly render: RenderContext;
  private nextRequestSeq = 1;

  constructor(
    readonly settings: EmulatorSettings,
    publicUrl: string,
    delivery: { deliver: boolean; policy: DeliveryPolicy; tsUnit: 'seconds' | 'milliseconds' },
  ) {
    this.store = new EmulatorStore(settings.collectorId);
    this.render = { publicUrl, collectorId: settings.collectorId };
    this.notifier = new Notifier({
      secret: settings.webhookSecret,
      userId: settings.collectorId,
      publicUrl,
      deliver: delivery.deliver,
      delivery: delivery.policy,
      tsUnit: delivery.tsUnit,
      log: settings.log,
    });
  }

  /** Webhook for a payment change, to the preference's notification_url (or the dashboard-style default). */
  notifyPayment(payment: StoredPayment, action: 'payment.created' | 'payment.updated'): void {
    const url = payment.notificationUrl ?? this.settings.defaultNotificationUrl;
    if (!url) return;
    void this.notifier.notify({ kind: 'webhook', topic: 'payment', action, dataId: String(payment.id), url });
  }

  logRequest(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.requestLog.push({ seq: this.nextRequestSeq++, ...entry });
  }

  reset(): void {
    this.store.reset();
    this.notifier.reset();
    this.idempotency.reset();
    this.apiFaults.clear();
    this.requestLog.length = 0;
  }
}
