import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { createMercadoPagoClient } from '../activities/payments/mercadopago-client';
import { createDb } from '../db/knex';
import { loadConfig, requireFor, type Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { registerDbMetrics } from '../lib/db-metrics';
import { createMetrics } from '../lib/metrics';
import { startMetricsServer } from '../lib/metrics-server';
import { flushSentry, initSentry } from '../lib/sentry';
import { payloadDataConverter } from '../lib/payload-codec';
import { onShutdown } from '../lib/shutdown';
import { connectClient, connectWorker } from '../lib/temporal';
import { workflowsPath } from './worker';
import { createQueueWorkers, type QueueWorker } from './queues';
import { workflowCode } from './deployment';
import { ensureSchedules } from './schedules';
import { startWebhookRelay } from './webhook-relay';
import { startMailRelay } from './mail-relay';

export interface RunningWorker {
  /** One per task queue the process serves (WORKER_TASK_QUEUES). */
  workers: QueueWorker[];
  /** Resolves when every worker has stopped (after shutdown, or on a fatal error of one). */
  done: Promise<void>;
  close(): Promise<void>;
}

// `npm run build:workflows` puts the bundle beside the compiled code (dist/); from source, bundle at start.
const prebuiltBundle = path.join(__dirname, '..', 'workflow-bundle.js');

const pinoLevel = (level: LogLevel) =>
  (({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' }) as const)[level];

/** The worker's composition root. */
export async function startWorker(
  config: Config,
  logger: Logger,
  options: { installRuntime?: boolean } = {},
): Promise<RunningWorker> {
  requireFor(config, 'worker');
  if (options.installRuntime !== false) {
    // The SDK's own metrics (task slots, schedule-to-start latency...) for Prometheus.
    Runtime.install({
      // The SDK's own log lines join ours as JSON, with their workflow and activity context.
      logger: new DefaultLogger('INFO', (entry) => logger[pinoLevel(entry.level)]({ ...entry.meta, sdk: true }, entry.message)),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.worker.temporalMetricsPort}` } } },
    });
  }
  const db = createDb({ url: config.database.url, poolMax: config.database.poolMax, applicationName: 'cafe-flow-worker' });
  const metrics = createMetrics();
  registerDbMetrics({ registry: metrics.registry, db, logger });
  const reportError = initSentry(config, 'cafe-flow-worker');
  const mercadopago = createMercadoPagoClient({
    accessToken: config.mercadopago.accessToken,
    apiUrl: config.mercadopago.apiUrl,
    timeoutMs: config.mercadopago.timeoutMs,
  });
  const connection = await connectWorker({ ...config.temporal, address: config.temporal.address });
  const temporal = await connectClient({ ...config.temporal, address: config.temporal.address });
  const bundlePath = config.worker.workflowBundlePath ?? (existsSync(prebuiltBundle) ? prebuiltBundle : undefined);
  if (bundlePath && !existsSync(bundlePath)) throw new Error(`WORKFLOW_BUNDLE_PATH: ${bundlePath} does not exist`);
  const workflows = await workflowCode(config.worker.versioning, bundlePath);
  const kinds = config.worker.taskQueues;
  const workers = await createQueueWorkers({
    connection,
    config,
    kinds,
    // From source, bundled once here rather than once by each queue's Worker.
    workflowBundle: workflows.workflowBundle ?? {
      code: (await bundleWorkflowCode({ workflowsPath: require.resolve(workflowsPath), logger: Runtime.instance().logger })).code,
    },
    deployment: workflows.deployment,
    dataConverter: payloadDataConverter(config.temporal.payloadKeys),
    deps: {
      db,
      logger,
      metrics,
      mercadopago,
      temporal,
      publicBaseUrl: config.http.publicBaseUrl,
      reportError,
      backups: { ...config.backups, databaseUrl: config.database.url },
    },
  });
  // Schedules start maintenance workflows, so the process that runs them keeps them in line.
  // A missing schedule must not keep orders from being processed: log it, alerts catch the rest.
  if (kinds.includes('maintenance'))
    await ensureSchedules(temporal, config).catch((error) => logger.error({ err: error }, 'maintenance schedules not ensured'));
  // Stored MercadoPago notifications reach their orders from the process that serves the orders.
  const relay = kinds.includes('orders')
    ? startWebhookRelay({ db, logger, metrics, mercadopago, temporal }, { databaseUrl: config.database.url })
    : undefined;
  // Customer mail leaves from here too; without SMTP_URL it waits in the outbox (and the backlog alert says so).
  const mailRelay =
    kinds.includes('orders') && config.mail.smtpUrl
      ? startMailRelay(
          { db, logger, metrics },
          { ...config.mail, smtpUrl: config.mail.smtpUrl, databaseUrl: config.database.url },
        )
      : undefined;
  const metricsServer = await startMetricsServer(metrics.registry, config.worker.metricsPort);
  logger.info(
    {
      taskQueues: workers.map(({ taskQueue }) => taskQueue),
      metricsPort: metricsServer.port,
      deploymentVersion: workflows.deployment?.version ?? 'unversioned',
    },
    'worker running',
  );

  const done = runAll(workers).finally(async () => {
    await relay?.stop();
    await mailRelay?.stop();
    await metricsServer.close();
    await connection.close();
    await temporal.connection.close();
    await db.destroy();
    await flushSentry();
  });
  return {
    workers,
    done,
    async close() {
      // Stops polling and waits for in-flight activities (up to shutdownGraceTime).
      shutDown(workers);
      await done;
    },
  };
}

const shutDown = (workers: QueueWorker[]) => {
  for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
};

/** Runs every queue's Worker; when one stops on a fatal error, the others stop too, then it rethrows. */
async function runAll(workers: QueueWorker[]): Promise<void> {
  const runs = workers.map(({ worker }) =>
    worker.run().catch((error: unknown) => {
      shutDown(workers);
      throw error;
    }),
  );
  const results = await Promise.allSettled(runs);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'cafe-flow-worker', file: config.log.file });
  startWorker(config, logger).then(
    (running) => {
      onShutdown(logger, () => running.close());
      running.done.catch((error) => {
        logger.fatal({ err: error }, 'worker stopped');
        process.exit(1);
      });
    },
    (error) => {
      logger.fatal({ err: error }, 'worker failed to start');
      process.exit(1);
    },
  );
}
