import { parseArgs } from 'node:util';
import { connectClient } from '../lib/temporal';
import { ensureSchedules } from '../workers/schedules';
import { describeDiscovery, discoverStack, notFound } from './stack/discover';

/**
 * `npm run schedules [-- --extra-databases a,b]`: creates or updates the maintenance schedules.
 * Next to `npm start` it needs no variables (scripts/stack/discover.ts).
 */
export async function runSchedules(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'extra-databases': { type: 'string' } }, strict: true });
  const discovery = discoverStack(env);
  const { config } = discovery;
  if (!config.temporal.address) throw new Error(notFound(discovery, ['TEMPORAL_ADDRESS']));
  const using = describeDiscovery(discovery);
  if (using) console.log(using);
  const client = await connectClient({ ...config.temporal, address: config.temporal.address });
  try {
    // Without the flag, BACKUP_EXTRA_DATABASES applies, as at a worker's start.
    const extraDatabases = values['extra-databases']
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const schedule of await ensureSchedules(client, config, { extraDatabases })) {
      console.log(`${schedule.scheduleId}: ${schedule.created ? 'created' : 'updated'}`);
    }
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) {
  runSchedules(process.argv.slice(2), process.env).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
