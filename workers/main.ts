import { existsSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { createMercadoPagoClient } from '../activities/payments/mercadopago-client';
import { createDb } from '../db/knex';
import { loadConfig, requireFor, type Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { registerDbMetrics } from '../lib/db-metrics';
import { createMetrics } from '../lib/metrics';
import { startMetricsServer } from '../lib/metrics-server';
import { flushSentry, initSentry } from '../lib/sentry';
import { onShutdown } from '../lib/shutdown';
import { connectClient, connectWorker } from '../lib/temporal';
import { createActivities, createWorker } from './worker';
import { workflowCode } from './deployment';
import { ensureSchedules } from './schedules';
import { startMailRelay } from './mail-relay';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown, or on a fatal error). */
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
  const workflows = await workflowCode(config.worker.versioning, existsSync(prebuiltBundle) ? prebuiltBundle : undefined);
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: workflows.workflowBundle,
    deployment: workflows.deployment,
    activities: createActivities({
      db,
      logger,
      metrics,
      mercadopago,
      temporal,
      publicBaseUrl: config.http.publicBaseUrl,
      reportError,
      backups: { ...config.backups, databaseUrl: config.database.url },
    }),
  });
  // A missing schedule must not keep orders from being processed: log it, alerts catch the rest.
  await ensureSchedules(temporal, config).catch((error) => logger.error({ err: error }, 'maintenance schedules not ensured'));
  // Customer mail leaves from here too; without SMTP_URL it waits in the outbox (and the backlog alert says so).
  const mailRelay = config.mail.smtpUrl
    ? startMailRelay(
        { db, logger, metrics },
        { ...config.mail, smtpUrl: config.mail.smtpUrl, databaseUrl: config.database.url as string },
      )
    : undefined;
  const metricsServer = await startMetricsServer(metrics.registry, config.worker.metricsPort);
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      metricsPort: metricsServer.port,
      deploymentVersion: workflows.deployment?.version ?? 'unversioned',
    },
    'worker running',
  );

  const done = worker.run().finally(async () => {
    await mailRelay?.stop();
    await metricsServer.close();
    await connection.close();
    await temporal.connection.close();
    await db.destroy();
    await flushSentry();
  });
  return {
    worker,
    done,
    async close() {
      // Stops polling and waits for in-flight activities (up to shutdownGraceTime).
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
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
