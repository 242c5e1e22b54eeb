import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_notifications', (t) => {
    // The provider's notification id, or for IPN requests (which have none) topic:id:request-id.
    t.text('id').primary();
    t.text('provider').notNullable();
    t.text('kind').notNullable();
    t.text('topic').notNullable();
    t.text('resource_id').notNullable();
    t.text('request_id');
    t.boolean('signed').notNullable();
    t.jsonb('query').notNullable();
    t.jsonb('body').notNullable();
    t.integer('deliveries').notNullable().defaultTo(1);
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('processed_at', { useTz: true });
    t.text('outcome');
    t.index(['topic', 'resource_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_notifications');
}
