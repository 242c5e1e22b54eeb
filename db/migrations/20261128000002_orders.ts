import type { Knex } from 'knex';

export const ORDER_STATUSES = [
  'pending_payment',
  'paid',
  'preparing',
  'ready',
  'completed',
  'cancelled',
  'expired',
  'refunded',
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    // A UUIDv5 of (business, customer, Idempotency-Key): the same request always names the same order.
    t.uuid('id').primary();
    t.uuid('business_id').notNullable().references('businesses.id').onDelete('CASCADE');
    t.uuid('customer_id').notNullable().references('users.id');
    t.text('idempotency_key').notNullable();
    t.text('request_hash').notNullable();
    t.text('workflow_id').notNullable().unique();
    t.text('status').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.integer('total_minor').notNullable();
    t.text('notes');
    t.text('pickup_name');
    t.timestamp('payment_deadline', { useTz: true }).notNullable();
    t.text('preference_id');
    t.text('checkout_url');
    t.text('payment_id');
    t.text('refund_id');
    t.text('cancel_reason');
    t.integer('last_event_seq').notNullable().defaultTo(0);
    t.timestamp('paid_at', { useTz: true });
    t.timestamps(true, true);
    t.unique(['business_id', 'customer_id', 'idempotency_key']);
    t.index(['business_id', 'created_at', 'id']);
    t.index(['business_id', 'status']);
    t.index(['customer_id', 'created_at']);
  });
  await knex.raw(
    `alter table orders add constraint orders_status_check check (status in (${ORDER_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );
  await knex.raw('alter table orders add constraint orders_total_check check (total_minor >= 0)');

  await knex.schema.createTable('order_items', (t) => {
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.integer('line').notNullable();
    t.uuid('product_id').notNullable().references('products.id');
    t.text('name').notNullable();
    t.integer('unit_price_minor').notNullable();
    t.integer('quantity').notNullable();
    t.integer('line_total_minor').notNullable();
    t.primary(['order_id', 'line']);
  });

  await knex.schema.createTable('order_events', (t) => {
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    // The workflow numbers its transitions; (order_id, seq) makes a retried write a no-op.
    t.integer('seq').notNullable();
    t.text('type').notNullable();
    t.text('from_status');
    t.text('to_status').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['order_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('order_events');
  await knex.schema.dropTable('order_items');
  await knex.schema.dropTable('orders');
}
