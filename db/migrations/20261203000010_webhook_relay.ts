import type { Knex } from 'knex';

/**
 * Webhook notifications become a durable queue: the API only stores them, and the relay in the
 * worker process claims pending rows (with a lease, so a crashed relay's rows are taken over),
 * fetches the payment once per resource and signals the order workflow.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_notifications', (t) => {
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('available_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_until', { useTz: true });
    t.text('last_error');
  });
  // Rows left unprocessed from before (a workflow that never started) stay pending: the relay takes
  // them, and a payment handed over twice changes nothing.
  await knex.raw('create index webhook_notifications_pending on webhook_notifications (available_at) where processed_at is null');
  await knex.raw('create index webhook_notifications_received on webhook_notifications (received_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists webhook_notifications_received');
  await knex.raw('drop index if exists webhook_notifications_pending');
  await knex.schema.alterTable('webhook_notifications', (t) => {
    t.dropColumn('attempts');
    t.dropColumn('available_at');
    t.dropColumn('claimed_until');
    t.dropColumn('last_error');
  });
}
