import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config';
import { connectClient } from '../lib/temporal';
import { ensureSchedules } from '../workers/schedules';

/** `npm run schedules [-- --extra-databases a,b]`: creates or updates the maintenance schedules. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'extra-databases': { type: 'string' } }, strict: true });
  const config = loadConfig();
  if (!config.temporal.address) throw new Error('TEMPORAL_ADDRESS is required');
  const client = await connectClient({ ...config.temporal, address: config.temporal.address });
  try {
    const extraDatabases = (values['extra-databases'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const schedule of await ensureSchedules(client, config, { extraDatabases })) {
      console.log(`${schedule.scheduleId}: ${schedule.created ? 'created' : 'updated'}`);
    }
  } finally {
    await client.connection.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
