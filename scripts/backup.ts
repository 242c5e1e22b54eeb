import { parseArgs } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { connectClient } from '../lib/temporal';
import {
  BACKUP_WORKFLOW_TYPE,
  backupProgressQuery,
  manualBackupWorkflowId,
  type BackupInput,
  type BackupProgress,
  type BackupResult,
} from '../workflows/maintenance/contracts';
import { describeDiscovery, discoverStack, notFound } from './stack/discover';

const USAGE = 'usage: npm run backup [-- --extra-databases temporal,temporal_visibility]';
const POLL_MS = 500;
// A dump of a large database stays in one phase for hours: say it is still going now and then.
const STILL_RUNNING_MS = 15_000;

/**
 * Starts a backup now on the maintenance task queue and follows it through its `progress` query
 * until it ends. Next to `npm start` it needs no variables (scripts/stack/discover.ts). Exit code 0 when the backup is verified, 1 when it failed, 2 on bad usage.
 */
export async function runBackup(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'extra-databases': { type: 'string' } }, strict: true });
  const discovery = discoverStack(env);
  const { config } = discovery;
  if (!config.temporal.address) {
    console.error(`${notFound(discovery, ['TEMPORAL_ADDRESS'])}\n${USAGE}`);
    return 2;
  }
  const using = describeDiscovery(discovery);
  if (using) console.log(using);
  const input: BackupInput = { extraDatabases: splitList(values['extra-databases']) };
  const client = await connectClient({ ...config.temporal, address: config.temporal.address });
  try {
    const handle = await client.workflow.start(BACKUP_WORKFLOW_TYPE, {
      taskQueue: config.temporal.maintenanceTaskQueue,
      workflowId: manualBackupWorkflowId(new Date()),
      args: [input],
      workflowExecutionTimeout: '20 hours',
    });
    console.log(`backup started: workflow ${handle.workflowId}`);
    const result = await follow(handle);
    for (const archive of result.archives)
      console.log(`archive ${archive.file} (${archive.sizeBytes} bytes, sha256 ${archive.sha256})`);
    const counts = result.drill.tables.map((table) => `${table.table}=${table.restored}`).join(' ');
    console.log(`restore drill matched: ${counts}`);
    console.log(`pruned ${result.pruned.length} file(s)`);
    return 0;
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : error;
    const type = cause instanceof ApplicationFailure ? `${cause.type}: ` : '';
    console.error(`backup failed: ${type}${cause instanceof Error ? cause.message : String(cause)}`);
    return 1;
  } finally {
    await client.connection.close();
  }
}

/** Prints each change of phase, and a line every STILL_RUNNING_MS in a long one, until the result. */
async function follow(handle: WorkflowHandle): Promise<BackupResult> {
  const result = handle.result() as Promise<BackupResult>;
  const ended = result.then(
    () => true,
    () => true,
  );
  const started = Date.now();
  let last = '';
  let printedAt = started;
  for (;;) {
    // A query can fail while no worker polls yet; the next round asks again.
    const progress = await handle.query(backupProgressQuery).catch(() => undefined);
    const line = progress ? describe(progress) : last;
    const now = Date.now();
    if (line !== last || now - printedAt >= STILL_RUNNING_MS) {
      console.log(
        line === last ? `${line || '  waiting for a maintenance worker'} (still running, ${seconds(now - started)})` : line,
      );
      printedAt = now;
    }
    last = line;
    if (await Promise.race([ended, delay(POLL_MS).then(() => false)])) return result;
  }
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describe(progress: BackupProgress): string {
  const done = progress.archives.map((archive) => `${archive.database}${archive.verified ? ' (verified)' : ''}`);
  return `  ${progress.phase}${progress.database ? ` ${progress.database}` : ''}${done.length ? ` | archives: ${done.join(', ')}` : ''}`;
}

const splitList = (value?: string) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

if (require.main === module) {
  runBackup(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
