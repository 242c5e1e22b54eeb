import { parseArgs } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig } from '../lib/config';
import { connectClient } from '../lib/temporal';
import {
  BACKUP_WORKFLOW_TYPE,
  backupProgressQuery,
  manualBackupWorkflowId,
  type BackupInput,
  type BackupProgress,
  type BackupResult,
} from '../workflows/maintenance/contracts';

const USAGE = 'usage: npm run backup [-- --extra-databases temporal,temporal_visibility]';
const POLL_MS = 500;

/**
 * Starts a backup now on the worker's task queue and follows it through its `progress` query
 * until it ends. Exit code 0 when the backup is verified, 1 when it failed, 2 on bad usage.
 */
export async function runBackup(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'extra-databases': { type: 'string' } }, strict: true });
  const config = loadConfig(env);
  if (!config.temporal.address) {
    console.error(`TEMPORAL_ADDRESS is required\n${USAGE}`);
    return 2;
  }
  const input: BackupInput = { extraDatabases: splitList(values['extra-databases']) };
  const client = await connectClient({ ...config.temporal, address: config.temporal.address });
  try {
    const handle = await client.workflow.start(BACKUP_WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
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

/** Prints each change of phase while waiting for the result. */
async function follow(handle: WorkflowHandle): Promise<BackupResult> {
  const result = handle.result() as Promise<BackupResult>;
  const ended = result.then(
    () => true,
    () => true,
  );
  let last = '';
  for (;;) {
    // A query can fail while no worker polls yet; the next round asks again.
    const progress = await handle.query(backupProgressQuery).catch(() => undefined);
    const line = progress ? describe(progress) : last;
    if (line !== last) console.log(line);
    last = line;
    if (await Promise.race([ended, delay(POLL_MS).then(() => false)])) return result;
  }
}

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
