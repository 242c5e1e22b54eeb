import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists pgcrypto');

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable();
    t.text('name').notNullable();
    t.text('password_hash').notNullable();
    t.timestamps(true, true);
  });
  // Emails are compared case-insensitively; the unique index enforces it.
  await knex.raw('create unique index users_email_lower_unique on users (lower(email))');

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('family_id').notNullable().index();
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('login_throttles', (t) => {
    t.text('key').primary();
    t.integer('failures').notNullable().defaultTo(0);
    t.timestamp('window_started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('locked_until', { useTz: true });
  });

  await knex.schema.createTable('businesses', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.text('time_zone').notNullable();
    t.integer('payment_timeout_seconds');
    t.timestamps(true, true);
  });

  await knex.schema.createTable('memberships', (t) => {
    t.uuid('business_id').notNullable().references('businesses.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('role').notNullable();
    t.timestamps(true, true);
    t.primary(['business_id', 'user_id']);
    t.index(['user_id']);
  });
  await knex.raw("alter table memberships add constraint memberships_role_check check (role in ('owner','manager','staff'))");

  await knex.schema.createTable('products', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('business_id').notNullable().references('businesses.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('description');
    t.text('category');
    t.integer('price_minor').notNullable();
    t.boolean('available').notNullable().defaultTo(true);
    // Soft delete: orders keep pointing at what was sold.
    t.timestamp('deleted_at', { useTz: true });
    t.timestamps(true, true);
    t.index(['business_id', 'deleted_at']);
  });
  await knex.raw('alter table products add constraint products_price_check check (price_minor >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('memberships');
  await knex.schema.dropTable('businesses');
  await knex.schema.dropTable('login_throttles');
  await knex.schema.dropTable('refresh_tokens');
  await knex.schema.dropTable('users');
}
