import type { Knex } from 'knex';

/**
 * Customer emails: the café's language, the customer's opt-out of non-transactional mail, and the
 * outbox the order read model fills in the same transaction as each event (so a mail exists if and
 * only if its event was recorded) and the worker's mail relay drains over SMTP.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('businesses', (t) => {
    t.text('locale').notNullable().defaultTo('es');
  });
  await knex.raw("alter table businesses add constraint businesses_locale_check check (locale in ('es','pt-BR','en'))");

  await knex.schema.alterTable('users', (t) => {
    // The "your order is ready" notice; receipts and refund or cancellation notices are always sent.
    t.boolean('order_updates_emails').notNullable().defaultTo(true);
  });

  await knex.schema.createTable('mail_outbox', (t) => {
    // order-<order id>-<seq>-<kind>: one mail per (order, event), whatever retries or redeliveries.
    t.text('id').primary();
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('kind').notNullable();
    t.text('recipient').notNullable();
    t.text('locale').notNullable();
    // What the templates need, as of the event: the mail says what was true when it happened.
    t.jsonb('payload').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('leased_until', { useTz: true });
    // The Message-ID header, fixed at the first attempt so every resend carries the same one.
    t.text('message_id');
    t.text('last_error');
    t.integer('last_response_code');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('rejected_at', { useTz: true });
    t.index(['order_id']);
  });
  await knex.raw(
    "alter table mail_outbox add constraint mail_outbox_status_check check (status in ('pending','sent','rejected'))",
  );
  await knex.raw(
    "alter table mail_outbox add constraint mail_outbox_kind_check check (kind in ('receipt','ready','cancelled','expired','refunded'))",
  );
  // The relay's claim scans only what is still to send.
  await knex.raw("create index mail_outbox_pending_idx on mail_outbox (next_attempt_at) where status = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('mail_outbox');
  await knex.schema.alterTable('users', (t) => t.dropColumn('order_updates_emails'));
  await knex.raw('alter table businesses drop constraint businesses_locale_check');
  await knex.schema.alterTable('businesses', (t) => t.dropColumn('locale'));
}
