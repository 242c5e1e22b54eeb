import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { createApp } from '../../../api/app';
import { createDb, ensureDatabase, migrateLatest, pingDb, withDatabase, type Db } from '../../../db/knex';
import type { Config } from '../../../lib/config';
import { createLogger } from '../../../lib/logger';
import { createMetrics } from '../../../lib/metrics';
import { connectClient, pingTemporal, requireBinary, SEARCH_ATTRIBUTES, temporalBinaries } from '../../../lib/temporal';
import { startMercadoPagoEmulator, type MercadoPagoEmulator } from '../../../scripts/mercadopago-emulator';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../../scripts/stack/embedded-postgres';
import { testConfig } from '../../support/env';
import { LogCapture } from '../../support/stack';
import { uniqueTaskQueue } from '../../support/temporal';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

/** A dependency the test can take down and bring back on the same port with the same data. */
export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface DedicatedStack {
  config: Config;
  baseUrl: string;
  db: Db;
  client: Client;
  emulator: MercadoPagoEmulator;
  logs: LogCapture;
  taskQueue: string;
  postgres: Restartable;
  temporal: Restartable;
  /** workers/main.ts in a process of its own, as deployed. */
  worker: WorkerProcess;
  stop(): Promise<void>;
}

/** Postgres in a directory of its own, restarted on the same port with the same data. */
async function dedicatedPostgres(dir: string) {
  const port = await freePort();
  let server: EmbeddedPostgres | undefined = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port });
  const adminUrl = server.adminUrl;
  await ensureDatabase(adminUrl, 'cafe_flow');
  return {
    url: withDatabase(adminUrl, 'cafe_flow'),
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port });
      if (server.port !== port) throw new Error(`Postgres came back on ${server.port}, not ${port}`);
    },
  };
}

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({}).finally(() => connection.close());
    return true;
  } catch {
    return false;
  }
}

/**
 * A dev server persisting to SQLite, so a restart keeps every workflow. Stopping it is a SIGKILL:
 * a crash, not a polite stop. Its output is dropped: dial errors while it is down are expected.
 */
async function dedicatedTemporal(dir: string) {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const cli = requireBinary(temporalBinaries(testConfig().temporal).cli, 'Temporal CLI');
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--db-filename', path.join(dir, 'temporal.sqlite'), '--log-level', 'error');
  for (const name of Object.keys(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=Keyword`);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(cli, args, { stdio: 'ignore' });
    const deadline = Date.now() + 90_000;
    while (!(await answers(address))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the Temporal dev server did not start on ${address}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  await start();
  return {
    address,
    start,
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The API in-process on a port of its own, its readiness checks pointing at the dedicated dependencies. */
async function serveApp(config: Config, db: Db, client: Client, logs: LogCapture, server: http.Server) {
  const logger = createLogger({ level: config.log.level, name: 'chaos', destination: logs });
  const { app, close } = createApp({
    config,
    db,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    temporal: client,
    readiness: { postgres: () => pingDb(db), temporal: () => pingTemporal(client) },
  });
  server.on('request', app.callback());
  return async () => {
    await close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/**
 * The app in-process with a Postgres and a Temporal dev server of its own (so the test may stop
 * and start them without disturbing other tests), the worker process, and the MercadoPago emulator.
 */
export async function startDedicatedStack(name: string, env: Record<string, string> = {}): Promise<DedicatedStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `cafe-flow-${name}-`));
  // The embedded server runs as its own OS user when we are root: it must reach its directory.
  await chmod(dir, 0o755);
  const postgres = await dedicatedPostgres(dir);
  const temporal = await dedicatedTemporal(dir);
  const emulator = await startMercadoPagoEmulator({ port: 0 });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const taskQueue = uniqueTaskQueue(name);
  const config = testConfig({
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MERCADOPAGO_ACCESS_TOKEN: emulator.accessTokens[0] as string,
    MERCADOPAGO_WEBHOOK_SECRET: emulator.webhookSecret,
    MERCADOPAGO_API_URL: emulator.url,
    PUBLIC_BASE_URL: baseUrl,
    RATE_LIMIT_PER_MINUTE: '100000',
    LOG_LEVEL: 'info',
    ...env,
  });
  const db = createDb({ url: postgres.url, poolMax: 5 });
  await migrateLatest(db);
  const client = await connectClient({ ...config.temporal, address: temporal.address });
  const logs = new LogCapture();
  const closeApp = await serveApp(config, db, client, logs, server);
  const worker = await startWorkerProcess({
    databaseUrl: postgres.url,
    temporalAddress: temporal.address,
    taskQueue,
    mercadopagoAccessToken: config.mercadopago.accessToken!,
    mercadopagoApiUrl: emulator.url,
    publicBaseUrl: baseUrl,
  });

  return {
    config,
    baseUrl,
    db,
    client,
    emulator,
    logs,
    taskQueue,
    postgres,
    temporal,
    worker,
    async stop() {
      await worker.stop();
      await closeApp();
      await emulator.stop();
      await client.connection.close().catch(() => undefined);
      await db.destroy();
      await temporal.stop();
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
