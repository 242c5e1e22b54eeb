import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config';
import { ensureSearchAttributes, temporalBinaries } from '../lib/temporal';
import { devServerArgs, ensureTemporalInstalled, type SqliteSync } from '../scripts/stack/temporal-dev-server';
import { freePort, stopChild, waitUntil, type Cleanup } from './processes';

export interface BenchTemporal {
  address: string;
  /** Undefined for a cluster the bench did not start (its CPU and memory are not measured). */
  pid?: number;
  version: string;
  persistence: string;
  args: string[];
}

async function answers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * `temporal server start-dev` with the arguments scripts/stack/temporal-dev-server.ts gives it for
 * `npm start` (SQLite file, the product's search attributes, UI), on free ports; started here
 * rather than there so its log goes to a file instead of into the bench's table. `memory` drops
 * the file, to show what persistence costs.
 */
export async function startTemporal(
  cleanup: Cleanup,
  dataDir: string,
  persistence: 'sqlite' | 'memory',
  sqliteSync?: SqliteSync,
): Promise<BenchTemporal> {
  const { cli } = temporalBinaries(loadConfig({}).temporal);
  ensureTemporalInstalled(cli);
  const dir = path.join(dataDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = devServerArgs({
    port,
    uiPort: await freePort(),
    dbFile: persistence === 'sqlite' ? path.join(dir, 'temporal.sqlite') : undefined,
    sqliteSync,
  });
  const log = openSync(path.join(dataDir, 'temporal.log'), 'a');
  const child = spawn(cli, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  cleanup.track(child);
  cleanup.add('temporal dev server', () => stopChild(child, 10_000));
  const address = `127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await waitUntil('temporal dev server', async () => !exited() && (await answers(address)), { timeoutMs: 60_000 });
  if (exited()) throw new Error(`the Temporal dev server exited (${child.exitCode ?? child.signalCode})`);
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
  const where = persistence === 'sqlite' ? 'sqlite file in the data directory' : 'in memory';
  return { address, pid: child.pid!, version, persistence: where, args };
}

/** A cluster that is already running (TEMPORAL_ADDRESS of a real deployment), namespace `default`. */
export async function existingTemporal(address: string): Promise<BenchTemporal> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    await ensureSearchAttributes(connection, 'default');
    return { address, version: info.serverVersion ?? 'unknown', persistence: 'external cluster', args: [] };
  } finally {
    await connection.close();
  }
}
