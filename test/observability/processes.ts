import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMercadoPagoEmulator, type MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { testDatabaseUrl } from '../support/env';
import { temporalDevServer, uniqueTaskQueue } from '../support/temporal';
import { freePort, startMain, type RunningProcess } from './support';

/**
 * The API and the worker as they run in production: their own processes started from
 * api/main.ts and workers/main.ts (so the SDK's Prometheus exporter can be installed, which the
 * test process cannot: its Runtime is already installed), against the run's Postgres, the shared
 * Temporal dev server and the MercadoPago emulator.
 */
export interface DeployedStack {
  apiUrl: string;
  ports: { api: number; apiMetrics: number; workerMetrics: number; sdkMetrics: number };
  emulator: MercadoPagoEmulator;
  api: RunningProcess;
  worker?: RunningProcess;
  stop(): Promise<void>;
}

export async function processEnv(name: string, overrides: Record<string, string> = {}) {
  const env = await temporalDevServer();
  const ports = {
    api: await freePort(),
    apiMetrics: await freePort(),
    workerMetrics: await freePort(),
    sdkMetrics: await freePort(),
  };
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  return {
    ports,
    apiUrl,
    vars: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PASSWORD_HASH_COST: '14',
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_POOL_MAX: '4',
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue(name),
      HOST: '127.0.0.1',
      PORT: String(ports.api),
      METRICS_PORT: String(ports.apiMetrics),
      WORKER_METRICS_PORT: String(ports.workerMetrics),
      TEMPORAL_METRICS_PORT: String(ports.sdkMetrics),
      PUBLIC_BASE_URL: apiUrl,
      TRUST_PROXY: 'true',
      BACKUP_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `cafe-flow-${name}-backups-`)),
      ...overrides,
    } as Record<string, string>,
  };
}

export async function startDeployedStack(
  name: string,
  options: { env?: Record<string, string>; withWorker?: boolean } = {},
): Promise<DeployedStack> {
  const emulator = await startMercadoPagoEmulator({ port: 0 });
  const { ports, apiUrl, vars } = await processEnv(name, {
    MERCADOPAGO_ACCESS_TOKEN: emulator.accessTokens[0] as string,
    MERCADOPAGO_WEBHOOK_SECRET: emulator.webhookSecret,
    MERCADOPAGO_API_URL: emulator.url,
    ...options.env,
  });
  const started: RunningProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((child) => child.stop()));
    await emulator.stop();
    fs.rmSync(vars.BACKUP_DIR as string, { recursive: true, force: true });
  };
  try {
    const worker = options.withWorker === false ? undefined : startMain('workers/main.ts', vars);
    if (worker) started.push(worker);
    const api = startMain('api/main.ts', vars);
    started.push(api);
    // Bundling the workflows makes the worker the slow one on a loaded machine.
    await Promise.all([api.waitFor(/"api listening"/, 90_000), worker?.waitFor(/"worker running"/, 90_000)]);
    return { apiUrl, ports, emulator, api, worker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
