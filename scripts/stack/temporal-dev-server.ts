import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../lib/temporal';

const root = path.resolve(__dirname, '..', '..');

/** SQLite's `synchronous` for the dev server's history file; `npm run bench:pragmas` compares them. */
export type SqliteSync = 'normal' | 'off';
export const DEFAULT_SQLITE_SYNC: SqliteSync = 'normal';
export const sqlitePragmas = (sync: SqliteSync = DEFAULT_SQLITE_SYNC) => ['journal_mode=wal', `synchronous=${sync}`];

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Arguments of `temporal server start-dev` for the product: loopback, its search attributes, and
 * (with `dbFile`) SQLite persistence tuned for throughput. Shared by `npm start` and the bench.
 */
export function devServerArgs(options: {
  port: number;
  uiPort: number;
  dbFile?: string;
  codecEndpoint?: string;
  sqliteSync?: SqliteSync;
}): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    // The UI decrypts payloads in the browser through this codec server (scripts/codec-server.ts).
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    '--log-level',
    'warn',
    // WAL lets readers (the UI, visibility queries) run beside the writer; NORMAL syncs at
    // checkpoints rather than on every commit. A crash of the machine may lose the last moments
    // of dev history, never corrupt it: the trade a development server should make.
    ...(options.dbFile ? sqlitePragmas(options.sqliteSync).flatMap((pragma) => ['--sqlite-pragma', pragma]) : []),
    ...Object.keys(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
}

/** Installs the pinned binaries when they are missing (scripts/install-temporal.sh). */
export function ensureTemporalInstalled(cli: string): void {
  if (existsSync(cli)) return;
  console.log('Temporal CLI not found; installing it into .tools/ ...');
  const result = spawnSync('bash', [path.join(root, 'scripts', 'install-temporal.sh')], { stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(cli)) throw new Error('could not install the Temporal CLI (see the output above)');
}

async function waitForServer(address: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`temporal server did not answer on ${address}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * `temporal server start-dev` with its Web UI, history persisted in SQLite under `dataDir`, and
 * the product's search attributes registered.
 */
export async function startTemporalDevServer(options: {
  cli: string;
  dataDir: string;
  port: number;
  uiPort: number;
  codecEndpoint?: string;
}): Promise<DevServer> {
  for (const port of [options.port, options.uiPort]) {
    if (await portInUse(port)) {
      throw new Error(
        `port ${port} is taken; stop what uses it, or set TEMPORAL_DEV_PORT / TEMPORAL_UI_PORT, or TEMPORAL_ADDRESS for a running cluster`,
      );
    }
  }
  await mkdir(options.dataDir, { recursive: true });
  const args = devServerArgs({
    port: options.port,
    uiPort: options.uiPort,
    dbFile: path.join(options.dataDir, 'temporal.sqlite'),
    codecEndpoint: options.codecEndpoint,
  });
  const child = spawn(options.cli, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${options.port}`;
  await waitForServer(address, child);
  return {
    address,
    uiUrl: `http://localhost:${options.uiPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
