/**
 * Records test/replay/histories/smoke.<version>.json: one deploySmokeCheck run, every check
 * passing, against the real stack. Run it after a deliberate change to the smoke workflow:
 *   npx tsx test/replay/record-smoke-history.ts v2
 * The payloads are encrypted with the development key (the replay test decodes with it), so
 * the file holds no customer-visible data in clear, and the run's credentials were never in it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { SMOKE_WORKFLOW_TYPE, type SmokeReport } from '../../workflows/maintenance/smoke-contracts';
import { setUpTestDatabase, tearDownTestDatabase } from '../support/database';
import { setTestDatabaseUrl } from '../support/env';
import { startStack } from '../support/stack';
import { tearDownTemporal } from '../support/temporal';

const version = process.argv[2] ?? 'v1';
const out = path.join(__dirname, 'histories');

async function main() {
  setTestDatabaseUrl(await setUpTestDatabase(process.env));
  // An empty value selects the development key, whatever the shell exports.
  const stack = await startStack({ name: 'record-smoke', env: { TEMPORAL_PAYLOAD_KEYS: '' } });
  try {
    const handle = await stack.client.workflow.start(SMOKE_WORKFLOW_TYPE, {
      taskQueue: stack.maintenanceTaskQueue,
      workflowId: `smoke:record:${randomUUID()}`,
      args: [{ baseUrl: stack.baseUrl, emulatorUrl: stack.emulator.url, p95Ms: 5000 }],
    });
    const report = (await handle.result()) as SmokeReport;
    if (report.result !== 'pass') throw new Error(`the smoke run failed, not recording it: ${JSON.stringify(report.checks)}`);
    const history = await handle.fetchHistory();
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, `smoke.${version}.json`), `${historyToJSON(history)}\n`);
    console.log(`recorded smoke.${version}.json (${history.events?.length} events)`);
  } finally {
    await stack.stop();
    await tearDownTemporal();
    await tearDownTestDatabase();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
