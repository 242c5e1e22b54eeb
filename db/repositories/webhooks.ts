import type { Executor } from '../knex';

/** Woken by every stored notification, so the relay hands it over without waiting for its next poll. */
export const NOTIFICATION_CHANNEL = 'webhook_notifications';

export interface NotificationRecord {
  id: string;
  provider: 'mercadopago';
  kind: 'webhook' | 'ipn';
  topic: string;
  resourceId: string;
  requestId: string | null;
  signed: boolean;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * Stores a notification once and wakes the relay, in one round trip; a redelivery only bumps its
 * counter. Returns true the first time.
 */
export async function recordNotification(db: Executor, record: NotificationRecord): Promise<boolean> {
  const rows = await db.raw(
    `with stored as (
       insert into webhook_notifications (id, provider, kind, topic, resource_id, request_id, signed, query, body)
       values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb)
       on conflict (id) do update set deliveries = webhook_notifications.deliveries + 1, last_received_at = now()
       returning (xmax = 0) as inserted
     )
     select inserted, case when inserted then pg_notify(?, '') end from stored`,
    [
      record.id,
      record.provider,
      record.kind,
      record.topic,
      record.resourceId,
      record.requestId,
      record.signed,
      JSON.stringify(record.query),
      JSON.stringify(record.body ?? null),
      NOTIFICATION_CHANNEL,
    ],
  );
  return Boolean(rows.rows[0]?.inserted);
}

export interface PendingNotification {
  id: string;
  topic: string;
  resourceId: string;
  attempts: number;
}

/**
 * Takes up to `limit` notifications that are due and not held by another relay, holding them for
 * `leaseSeconds`: a relay that dies mid-way loses its lease and another one takes the rows over.
 */
export async function claimPendingNotifications(
  db: Executor,
  options: { limit: number; leaseSeconds: number },
): Promise<PendingNotification[]> {
  const result = await db.raw(
    `update webhook_notifications set claimed_until = now() + make_interval(secs => ?), attempts = attempts + 1
     where id in (
       select id from webhook_notifications
       where processed_at is null and available_at <= now() and (claimed_until is null or claimed_until < now())
       order by available_at
       limit ?
       for update skip locked
     )
     returning id, topic, resource_id as "resourceId", attempts`,
    [options.leaseSeconds, options.limit],
  );
  return result.rows;
}

export async function markNotificationsProcessed(db: Executor, ids: string[], outcome: string): Promise<void> {
  await db('webhookNotifications')
    .whereIn('id', ids)
    .update({ processedAt: db.fn.now(), outcome, claimedUntil: null, lastError: null });
}

/** Gives the rows back to be tried again after `delaySeconds`. */
export async function retryNotificationsLater(db: Executor, ids: string[], error: string, delaySeconds: number) {
  await db.raw(
    `update webhook_notifications
     set claimed_until = null, last_error = ?, available_at = now() + make_interval(secs => ?)
     where id = any(?)`,
    [error.slice(0, 1000), delaySeconds, ids],
  );
}

/** What is still waiting, for the backlog gauge and alert. */
export async function pendingNotificationStats(db: Executor): Promise<{ pending: number; oldestSeconds: number }> {
  const row = await db('webhookNotifications')
    .whereNull('processedAt')
    .first(
      db.raw('count(*)::int as pending'),
      db.raw('coalesce(extract(epoch from now() - min(received_at)), 0)::float as "oldestSeconds"'),
    );
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldestSeconds ?? 0 };
}

/** Retention: processed notifications older than `olderThanDays` go; pending ones are never pruned. */
export async function pruneProcessedNotifications(db: Executor, olderThanDays: number): Promise<number> {
  return db('webhookNotifications')
    .whereNotNull('processedAt')
    .andWhere('receivedAt', '<', db.raw('now() - make_interval(days => ?)', [olderThanDays]))
    .delete();
}
