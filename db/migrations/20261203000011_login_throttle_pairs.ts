import type { Knex } from 'knex';

/**
 * Login throttling moves from "an account" and "an IP" to the (account, IP) pair, with high
 * per-IP and per-account ceilings beside it. Rows of the old scheme would lock people out under
 * rules that no longer exist, so they are dropped. Keys are now `pair:<ip>|<email>`,
 * `ip:<address>` and `account:<email>`.
 *
 * `last_attempt_at` lets a pair's count decay after a quiet spell (its delays grow with each
 * failure in a row) and bounds the pruning of rows nobody needs any more.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('login_throttles').delete();
  await knex.schema.alterTable('login_throttles', (t) => {
    t.timestamp('last_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['last_attempt_at'], 'login_throttles_last_attempt_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('login_throttles').delete();
  await knex.schema.alterTable('login_throttles', (t) => {
    t.dropIndex(['last_attempt_at'], 'login_throttles_last_attempt_at');
    t.dropColumn('last_attempt_at');
  });
}
