import type { Knex } from 'knex';

/**
 * What the relay last told each order about each payment. MercadoPago notifies a payment several
 * times (created, updated, retries, the merchant order); a status the workflow has already been
 * signalled is not signalled again, so a late duplicate costs one provider fetch and no workflow task.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payment_signals', (t) => {
    t.text('payment_id').primary();
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.text('fingerprint').notNullable();
    t.timestamp('signalled_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['order_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('payment_signals');
}
