/**
 * `npm run migrate` (latest) and `npm run migrate:rollback [-- --all]` against DATABASE_URL.
 * In the production image: `node dist/scripts/migrate.js latest`.
 */
import { createDb, migrateLatest, migrateRollback } from '../db/knex';
import { loadConfig, requireFor } from '../lib/config';

async function main() {
  const [command = 'latest', ...flags] = process.argv.slice(2);
  const config = loadConfig();
  requireFor(config, 'migrate');
  const db = createDb({ url: config.database.url, poolMax: 1, applicationName: 'cafe-flow-migrate' });
  try {
    if (command === 'latest') {
      const applied = await migrateLatest(db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
    } else if (command === 'rollback') {
      const reverted = await migrateRollback(db, flags.includes('--all'));
      console.log(reverted.length ? `rolled back: ${reverted.join(', ')}` : 'nothing to roll back');
    } else {
      throw new Error(`unknown command "${command}"; use latest or rollback [--all]`);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
