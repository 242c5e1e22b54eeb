import type { Executor } from '../knex';

/** Customer emails: the outbox the order read model fills and the mail relay drains, and the opt-out. */

export const MAIL_CHANNEL = 'mail_outbox';

export type MailKind = 'receipt' | 'ready' | 'cancelled' | 'expired' | 'refunded';

export interface NewMail {
  id: string;
  orderId: string;
  seq: number;
  kind: MailKind;
  recipient: string;
  locale: string;
  payload: Record<string, unknown>;
}

export interface OutboxMail extends NewMail {
  status: 'pending' | 'sent' | 'rejected';
  attempts: number;
  messageId: string | null;
  lastError: string | null;
  lastResponseCode: number | null;
  nextAttemptAt: Date;
  createdAt: Date;
  sentAt: Date | null;
  rejectedAt: Date | null;
}

/** Everything an order's mails say about it, read in the transaction that records its event. */
export interface OrderMailContext {
  orderId: string;
  pickupName: string | null;
  totalMinor: number;
  currency: string;
  paymentId: string | null;
  cafeName: string;
  locale: string;
  email: string;
  customerName: string;
  orderUpdatesEmails: boolean;
}

export async function findOrderMailContext(db: Executor, orderId: string): Promise<OrderMailContext | undefined> {
  return db('orders')
    .join('businesses', 'businesses.id', 'orders.businessId')
    .join('users', 'users.id', 'orders.customerId')
    .where('orders.id', orderId)
    .first(
      'orders.id as orderId',
      'orders.pickupName',
      'orders.totalMinor',
      'orders.currency',
      'orders.paymentId',
      'businesses.name as cafeName',
      'businesses.locale',
      'users.email',
      'users.name as customerName',
      'users.orderUpdatesEmails',
    );
}

/** Queues a mail once: a second insert of the same id (a retried activity) changes nothing. */
export async function insertMailIfAbsent(db: Executor, mail: NewMail): Promise<boolean> {
  const inserted = await db('mailOutbox')
    .insert({ ...mail, payload: JSON.stringify(mail.payload) })
    .onConflict('id')
    .ignore()
    .returning('id');
  if (inserted.length === 0) return false;
  // Delivered when the transaction commits, so the relay never wakes for a mail it cannot see yet.
  await db.raw('select pg_notify(?, ?)', [MAIL_CHANNEL, mail.id]);
  return true;
}

/**
 * Takes due mails for `leaseSeconds`, skipping rows another relay holds. The Message-ID is fixed
 * at the first claim (`<id@domain>`) and kept by every later attempt.
 */
export async function claimDueMails(
  db: Executor,
  options: { limit: number; leaseSeconds: number; messageIdDomain: string },
): Promise<OutboxMail[]> {
  const result = await db.raw(
    `update mail_outbox m
        set leased_until = now() + make_interval(secs => ?),
            attempts = m.attempts + 1,
            message_id = coalesce(m.message_id, '<' || m.id || '@' || ? || '>')
      where m.id in (
        select id from mail_outbox
         where status = 'pending' and next_attempt_at <= now() and (leased_until is null or leased_until < now())
         order by next_attempt_at
         limit ?
         for update skip locked)
      returning m.*`,
    [options.leaseSeconds, options.messageIdDomain, options.limit],
  );
  return (result.rows as Record<string, unknown>[]).map(toOutboxMail);
}

const toOutboxMail = (row: Record<string, unknown>): OutboxMail => ({
  id: row.id as string,
  orderId: row.order_id as string,
  seq: row.seq as number,
  kind: row.kind as MailKind,
  recipient: row.recipient as string,
  locale: row.locale as string,
  payload: row.payload as Record<string, unknown>,
  status: row.status as OutboxMail['status'],
  attempts: row.attempts as number,
  messageId: row.message_id as string | null,
  lastError: row.last_error as string | null,
  lastResponseCode: row.last_response_code as number | null,
  nextAttemptAt: row.next_attempt_at as Date,
  createdAt: row.created_at as Date,
  sentAt: row.sent_at as Date | null,
  rejectedAt: row.rejected_at as Date | null,
});

/** The sent-mail record: the row itself, with the time the SMTP server took responsibility for it. */
export async function markMailSent(db: Executor, id: string): Promise<void> {
  await db('mailOutbox')
    .where({ id, status: 'pending' })
    .update({ status: 'sent', sentAt: db.fn.now(), leasedUntil: null, lastError: null });
}

/** A permanent (5xx) refusal: recorded with the server's answer, never tried again. */
export async function markMailRejected(db: Executor, id: string, failure: { code: number | null; error: string }): Promise<void> {
  await db('mailOutbox').where({ id, status: 'pending' }).update({
    status: 'rejected',
    rejectedAt: db.fn.now(),
    leasedUntil: null,
    lastError: failure.error,
    lastResponseCode: failure.code,
  });
}

export async function retryMailLater(
  db: Executor,
  id: string,
  failure: { code: number | null; error: string; delaySeconds: number },
): Promise<void> {
  await db('mailOutbox')
    .where({ id, status: 'pending' })
    .update({
      leasedUntil: null,
      nextAttemptAt: db.raw('now() + make_interval(secs => ?)', [failure.delaySeconds]),
      lastError: failure.error,
      lastResponseCode: failure.code,
    });
}

export async function pendingMailStats(db: Executor): Promise<{ pending: number; oldestSeconds: number }> {
  const row = (await db('mailOutbox')
    .where({ status: 'pending' })
    .first(
      db.raw('count(*)::int as pending'),
      db.raw('coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest'),
    )) as { pending: number; oldest: number } | undefined;
  return { pending: Number(row?.pending ?? 0), oldestSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
}

export async function findMailsOfOrder(db: Executor, orderId: string): Promise<OutboxMail[]> {
  const rows = await db.raw('select * from mail_outbox where order_id = ? order by seq, kind', [orderId]);
  return (rows.rows as Record<string, unknown>[]).map(toOutboxMail);
}

export interface MailPreferences {
  orderUpdatesEmails: boolean;
}

export async function findMailPreferences(db: Executor, userId: string): Promise<MailPreferences | undefined> {
  return db('users').where({ id: userId }).first('orderUpdatesEmails');
}

export async function updateMailPreferences(
  db: Executor,
  userId: string,
  patch: Partial<MailPreferences>,
): Promise<MailPreferences | undefined> {
  const [row] = await db('users')
    .where({ id: userId })
    .update({ ...patch, updatedAt: db.fn.now() })
    .returning('orderUpdatesEmails');
  return row;
}
