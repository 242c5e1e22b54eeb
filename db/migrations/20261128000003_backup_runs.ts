import type { Knex } from 'knex';

export const BACKUP_STATUSES = ['running', 'succeeded', 'failed'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backup_runs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // One row per backup workflow: every write is an upsert on it, so a retried activity is a no-op.
    t.text('workflow_id').notNullable().unique();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.text('status').notNullable();
    // The application database's archive; `archives` lists every database of the run.
    t.text('file');
    t.bigInteger('size_bytes');
    t.text('sha256');
    t.boolean('verified').notNullable().defaultTo(false);
    t.jsonb('drill_result');
    t.jsonb('archives').notNullable().defaultTo('[]');
    t.text('error');
    t.timestamps(true, true);
    t.index(['verified', 'started_at']);
  });
  await knex.raw(
    `alter table backup_runs add constraint backup_runs_status_check check (status in (${BACKUP_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('backup_runs');
}
