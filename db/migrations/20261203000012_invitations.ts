import type { Knex } from 'knex';

/**
 * Staff join a café by accepting an invitation, never by being added: the row is bound to the
 * invited address, expires, and keeps only the SHA-256 of its token.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('invitations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('business_id').notNullable().references('businesses.id').onDelete('CASCADE');
    t.text('email').notNullable();
    t.text('role').notNullable();
    t.text('token_hash').notNullable().unique();
    t.uuid('invited_by').references('users.id').onDelete('SET NULL');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('accepted_at', { useTz: true });
    t.uuid('accepted_by').references('users.id').onDelete('SET NULL');
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['business_id', 'created_at']);
  });
  await knex.raw("alter table invitations add constraint invitations_role_check check (role in ('manager','staff'))");
  // One open invitation per café and address: inviting again replaces it (the service revokes the old one first).
  await knex.raw(
    'create unique index invitations_open_unique on invitations (business_id, lower(email)) where accepted_at is null and revoked_at is null',
  );
  await knex.raw('create index invitations_email_lower on invitations (lower(email))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('invitations');
}
