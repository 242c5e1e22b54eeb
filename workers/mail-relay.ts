import nodemailer, { type SendMailOptions } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { renderMail } from '../activities/mail/render';
import type { MailPayload } from '../activities/mail/order-mail';
import type { Db } from '../db/knex';
import * as mail from '../db/repositories/mail';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { startRelayLoop } from './relay-loop';

export interface MailRelaySettings {
  databaseUrl: string;
  smtpUrl: string;
  from: string;
  messageIdDomain: string;
  tlsRejectUnauthorized: boolean;
  /** Connection, greeting and socket timeouts of one SMTP conversation. */
  timeoutMs: number;
  /** Mails in flight at once, and SMTP connections in the pool. */
  concurrency: number;
  pollIntervalMs: number;
  /** Longer than one send can take (the timeouts above): past it, another relay takes the mail over. */
  leaseSeconds: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
}

export interface MailRelayDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
}

export interface MailRelay {
  /** Stops claiming; sends still in flight after `graceMs` are cut off and retried later. */
  stop(graceMs?: number): Promise<void>;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  message?: string;
}

/**
 * A 5xx answer to the envelope or the message is the server's final word (an unknown mailbox, a
 * refused content): retrying would only repeat it. Anything else (no connection, a timeout, a
 * 4xx "try later", an authentication failure, which is our configuration and not the address) is
 * retried with backoff.
 */
export function isPermanentRejection(error: unknown): boolean {
  const { code, responseCode } = (error ?? {}) as SmtpError;
  return (code === 'EENVELOPE' || code === 'EMESSAGE') && typeof responseCode === 'number' && responseCode >= 500;
}

/** 10 s, 20 s, 40 s ... up to the cap (15 min by default): an SMTP outage only delays mail. */
export const retryDelaySeconds = (attempts: number, initial: number, max: number) =>
  Math.min(max, initial * 2 ** Math.min(Math.max(attempts - 1, 0), 20));

/** The server's host and port, never its credentials, for the log. */
const smtpEndpoint = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
};

/**
 * Sends the mail outbox over SMTP from the worker process. The order read model queues each mail
 * in the transaction of its event; this loop claims due rows with a lease (FOR UPDATE SKIP LOCKED,
 * so replicas share the work), sends each with its deterministic Message-ID, and marks it sent
 * right after the server's 250. Exactly once per (order, event), with one honest window: a
 * process killed between the 250 and that mark sends the mail again when its lease runs out,
 * with the same Message-ID, which receivers use to drop the copy.
 */
export function startMailRelay(deps: MailRelayDeps, settings: MailRelaySettings): MailRelay {
  const { db, logger, metrics } = deps;
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    pool: true,
    maxConnections: settings.concurrency,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    tls: { rejectUnauthorized: settings.tlsRejectUnauthorized },
  } as SMTPPool.Options);
  const aborts = new AbortController();

  async function send(row: mail.OutboxMail): Promise<void> {
    const log = { mailId: row.id, orderId: row.orderId, kind: row.kind, attempt: row.attempts };
    try {
      const rendered = renderMail(row.kind, row.locale, row.payload as unknown as MailPayload);
      await transport.sendMail({
        from: settings.from,
        to: row.recipient,
        messageId: row.messageId ?? undefined,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Cafe-Flow-Mail': row.kind },
        signal: aborts.signal,
      } as SendMailOptions);
    } catch (error) {
      await failed(row, error, log);
      return;
    }
    // Kept as short as possible: a crash between the 250 above and this write is the resend window.
    await recordSent(row.id);
    metrics.mailMessages.inc({ kind: row.kind, result: 'sent' });
    logger.info(log, 'mail sent');
  }

  /** A database blip right after the 250 must not turn into a resend: try again within the lease. */
  async function recordSent(id: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await mail.markMailSent(db, id);
      } catch (error) {
        if (attempt >= 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  async function failed(row: mail.OutboxMail, error: unknown, log: Record<string, unknown>): Promise<void> {
    const { responseCode } = (error ?? {}) as SmtpError;
    const failure = { code: typeof responseCode === 'number' ? responseCode : null, error: String(error).slice(0, 500) };
    if (isPermanentRejection(error)) {
      await mail.markMailRejected(db, row.id, failure);
      metrics.mailMessages.inc({ kind: row.kind, result: 'rejected' });
      logger.warn({ ...log, responseCode }, 'mail permanently rejected by the SMTP server; not retried');
      return;
    }
    const delaySeconds = retryDelaySeconds(row.attempts, settings.retryInitialSeconds, settings.retryMaxSeconds);
    await mail.retryMailLater(db, row.id, { ...failure, delaySeconds });
    metrics.mailMessages.inc({ kind: row.kind, result: 'retry' });
    logger.warn({ ...log, err: error, delaySeconds }, 'mail not sent; retrying later');
  }

  async function round(): Promise<boolean> {
    const claimed = await mail.claimDueMails(db, {
      limit: settings.concurrency,
      leaseSeconds: settings.leaseSeconds,
      messageIdDomain: settings.messageIdDomain,
    });
    await Promise.all(claimed.map((row) => send(row)));
    return claimed.length === settings.concurrency;
  }

  async function reportBacklog() {
    const stats = await mail.pendingMailStats(db);
    metrics.mailPending.set(stats.pending);
    metrics.mailOldestPendingSeconds.set(stats.oldestSeconds);
  }

  const loop = startRelayLoop({
    name: 'mail-relay',
    databaseUrl: settings.databaseUrl,
    channel: mail.MAIL_CHANNEL,
    pollIntervalMs: settings.pollIntervalMs,
    reportEveryMs: Math.min(10_000, settings.pollIntervalMs),
    round,
    reportBacklog,
    logger,
  });
  logger.info({ smtp: smtpEndpoint(settings.smtpUrl), concurrency: settings.concurrency }, 'mail relay running');

  return {
    async stop(graceMs = 10_000) {
      loop.halt();
      let timer: NodeJS.Timeout | undefined;
      const cutOff = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          aborts.abort();
          resolve();
        }, graceMs);
      });
      await Promise.race([loop.finished, cutOff]);
      await loop.finished;
      clearTimeout(timer);
      transport.close();
      await loop.close();
    },
  };
}
