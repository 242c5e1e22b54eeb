import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { createDb, pingDb, type Db } from '../../db/knex';
import { TASK_QUEUE_KINDS, type Config } from '../../lib/config';
import { createLogger, type Logger } from '../../lib/logger';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { payloadDataConverter } from '../../lib/payload-codec';
import { pingTemporal } from '../../lib/temporal';
import { startMercadoPagoEmulator, type MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { startWebhookRelay, type WebhookRelay } from '../../workers/webhook-relay';
import { startMailRelay, type MailRelay } from '../../workers/mail-relay';
import { createQueueWorkers } from '../../workers/queues';
import { createActivities } from '../../workers/worker';
import { testConfig } from './env';
import { codecClient, runWorker, temporalDevServer, uniqueTaskQueue, workflowBundle, type RunningWorker } from './temporal';

/** Every log line the stack writes during a test, kept to assert on (and to scan for secrets). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
}

export interface TestStack {
  config: Config;
  baseUrl: string;
  db: Db;
  client: Client;
  env: TestWorkflowEnvironment;
  emulator: MercadoPagoEmulator;
  metrics: Metrics;
  logs: LogCapture;
  logger: Logger;
  /** The orders queue (TEMPORAL_TASK_QUEUE); `worker` runs it and the maintenance queue. */
  taskQueue: string;
  maintenanceTaskQueue: string;
  worker: RunningWorker;
  /** Hands stored webhook notifications to their orders, as the worker process does in production. */
  relay: WebhookRelay;
  restartRelay(): Promise<void>;
  /** Sends the mail outbox when the stack's env sets SMTP_URL (test/support/mail.ts), as the worker process does. */
  mailRelay?: MailRelay;
  /** Stops the mail relay (cutting off sends still in flight after `graceMs`) and starts a fresh one. */
  restartMailRelay(graceMs?: number): Promise<void>;
  /** Starts a fresh worker (after `worker.stop()`), as a restarted process would. */
  restartWorker(): Promise<RunningWorker>;
  stop(): Promise<void>;
}

export interface StackOptions {
  name: string;
  env?: Record<string, string>;
  /** Wraps the activities, e.g. to inject a transient failure into one. */
  wrapActivities?: (activities: ReturnType<typeof createActivities>) => ReturnType<typeof createActivities>;
  withWorker?: boolean;
}

/**
 * The app in-process against the run's Postgres, the real Temporal dev server, a worker on a
 * task queue of its own, and the MercadoPago emulator reached by the real SDK.
 */
export async function startStack(options: StackOptions): Promise<TestStack> {
  const env = await temporalDevServer();
  const emulator = await startMercadoPagoEmulator({ port: 0 });
  const taskQueue = uniqueTaskQueue(options.name);
  const logs = new LogCapture();
  const backupDir = await mkdtemp(path.join(tmpdir(), `cafe-flow-${options.name}-backups-`));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = testConfig({
    TEMPORAL_TASK_QUEUE: taskQueue,
    MERCADOPAGO_ACCESS_TOKEN: emulator.accessTokens[0] as string,
    MERCADOPAGO_WEBHOOK_SECRET: emulator.webhookSecret,
    MERCADOPAGO_API_URL: emulator.url,
    PUBLIC_BASE_URL: baseUrl,
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const logger = createLogger({ level: config.log.level, name: `test-${options.name}`, destination: logs });
  const db = createDb({ url: config.database.url as string, poolMax: 5 });
  const metrics = createMetrics({ defaultMetrics: false });
  // Encrypts as the API does; `env.client` reads the raw history.
  const client = codecClient(env, config.temporal.payloadKeys);
  const { app, close: closeApp } = createApp({
    config,
    db,
    logger,
    metrics,
    temporal: client,
    readiness: { postgres: () => pingDb(db), temporal: () => pingTemporal(client) },
  });
  server.on('request', app.callback());

  const mercadopago = createMercadoPagoClient({
    accessToken: config.mercadopago.accessToken as string,
    apiUrl: emulator.url,
    timeoutMs: 5000,
  });
  const activityDeps = {
    db,
    logger,
    metrics,
    mercadopago,
    temporal: client,
    publicBaseUrl: baseUrl,
    backups: { ...config.backups, dir: backupDir, databaseUrl: config.database.url as string },
  };
  const buildActivities = () => {
    const activities = createActivities(activityDeps);
    return options.wrapActivities ? options.wrapActivities(activities) : activities;
  };
  // Both task queues, each with a Worker of its own and only its activities, as the worker process runs them.
  const startOne = async (): Promise<RunningWorker> => {
    const workers = await createQueueWorkers({
      connection: env.nativeConnection,
      config,
      kinds: [...TASK_QUEUE_KINDS],
      deps: activityDeps,
      activities: buildActivities(),
      dataConverter: payloadDataConverter(config.temporal.payloadKeys),
      workflowBundle: await workflowBundle(),
    });
    const running = await Promise.all(workers.map(({ worker, taskQueue: queue }) => runWorker(worker, queue)));
    return {
      worker: running[0]!.worker,
      taskQueue,
      stop: async () => {
        await Promise.all(running.map((one) => one.stop()));
      },
    };
  };

  // The webhook relay runs in the worker process in production; here, beside the in-process worker.
  const startRelay = () =>
    startWebhookRelay(
      { db, logger, metrics, mercadopago, temporal: client },
      { databaseUrl: config.database.url as string, pollIntervalMs: 500 },
    );
  const startMail = () =>
    config.mail.smtpUrl
      ? startMailRelay(
          { db, logger, metrics },
          { ...config.mail, smtpUrl: config.mail.smtpUrl, databaseUrl: config.database.url as string },
        )
      : undefined;
  const stack: TestStack = {
    config,
    baseUrl,
    db,
    client,
    env,
    emulator,
    metrics,
    logs,
    logger,
    taskQueue,
    maintenanceTaskQueue: config.temporal.maintenanceTaskQueue,
    worker: options.withWorker === false ? (undefined as never) : await startOne(),
    async restartWorker() {
      stack.worker = await startOne();
      return stack.worker;
    },
    relay: startRelay(),
    async restartRelay() {
      await stack.relay.stop();
      stack.relay = startRelay();
    },
    mailRelay: startMail(),
    async restartMailRelay(graceMs) {
      await stack.mailRelay?.stop(graceMs);
      stack.mailRelay = startMail();
    },
    async stop() {
      await stack.relay.stop();
      await stack.mailRelay?.stop(1000);
      await stack.worker?.stop();
      await closeApp();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.stop();
      await db.destroy();
      await rm(backupDir, { recursive: true, force: true });
    },
  };
  return stack;
}
