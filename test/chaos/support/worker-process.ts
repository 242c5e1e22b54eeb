import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/stack/embedded-postgres';

const root = path.resolve(__dirname, '..', '..', '..');

export interface WorkerSettings {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  mercadopagoAccessToken: string;
  mercadopagoApiUrl: string;
  publicBaseUrl: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Whether the process is still there: a worker that gave up on a dependency has exited. */
  alive(): boolean;
  /** The last lines it wrote, for a failing assertion's message. */
  tail(): string;
  /** SIGKILL: no shutdown, no chance to report anything to Temporal. */
  kill(): Promise<void>;
  /** SIGTERM, as a deploy would stop it; SIGKILL if it has not exited in `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function waitForExit(child: ChildProcess): Promise<void> {
  return exited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The production entry point (workers/main.ts) in a process of its own, ready once it logs "worker running". */
export async function startWorkerProcess(settings: WorkerSettings): Promise<WorkerProcess> {
  return startServiceProcess('workers/main.ts', 'worker running', {
    ...commonEnv(settings),
    WORKER_METRICS_PORT: String(await freePort()),
    TEMPORAL_METRICS_PORT: String(await freePort()),
    BACKUP_DIR: path.join(os.tmpdir(), 'cafe-flow-chaos-backups'),
  });
}

export interface ApiSettings extends WorkerSettings {
  port: number;
  mercadopagoWebhookSecret: string;
}

/** api/main.ts in a process of its own, as deployed; ready once it logs "api listening". */
export async function startApiProcess(settings: ApiSettings): Promise<WorkerProcess> {
  return startServiceProcess('api/main.ts', 'api listening', {
    ...commonEnv(settings),
    PORT: String(settings.port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    MERCADOPAGO_WEBHOOK_SECRET: settings.mercadopagoWebhookSecret,
  });
}

const commonEnv = (settings: WorkerSettings) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  DATABASE_URL: settings.databaseUrl,
  TEMPORAL_ADDRESS: settings.temporalAddress,
  TEMPORAL_TASK_QUEUE: settings.taskQueue,
  MERCADOPAGO_ACCESS_TOKEN: settings.mercadopagoAccessToken,
  MERCADOPAGO_API_URL: settings.mercadopagoApiUrl,
  PUBLIC_BASE_URL: settings.publicBaseUrl,
});

async function startServiceProcess(entry: string, readyText: string, env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 200));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const tail = () => lines.slice(-30).join('\n');
  await new Promise<void>((resolve, reject) => {
    // Bundling the workflows takes a while on a busy machine.
    const timer = setTimeout(() => reject(new Error(`${entry} did not start in 120 s\n${tail()}`)), 120_000);
    const onData = (chunk: Buffer) => {
      if (!chunk.toString().includes(readyText)) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}\n${tail()}`));
    });
  });
  return {
    child,
    alive: () => !exited(child),
    tail,
    async kill() {
      child.kill('SIGKILL');
      await waitForExit(child);
    },
    async stop(graceMs = 25_000) {
      if (exited(child)) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await waitForExit(child);
      clearTimeout(timer);
    },
  };
}
