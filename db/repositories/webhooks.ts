import type { Executor } from '../knex';

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
 * Stores a notification once; a redelivery only bumps its counter. Returns true the first time,
 * so only the first delivery starts processing.
 */
export async function recordNotification(db: Executor, record: NotificationRecord): Promise<boolean> {
  const rows = await db.raw(
    `insert into webhook_notifications (id, provider, kind, topic, resource_id, request_id, signed, query, body)
     values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb)
     on conflict (id) do update set deliveries = webhook_notifications.deliveries + 1, last_received_at = now()
     returning (xmax = 0) as inserted`,
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
    ],
  );
  return Boolean(rows.rows[0]?.inserted);
}

export async function markNotificationProcessed(db: Executor, id: string, outcome: string): Promise<void> {
  await db('webhookNotifications').where({ id }).update({ processedAt: db.fn.now(), outcome });
}

export async function findNotification(db: Executor, id: string) {
  return db('webhookNotifications').where({ id }).first();
}
