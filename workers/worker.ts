import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { Db } from '../db/knex';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { createOrderActivities } from '../activities/orders';
import { createPaymentActivities, type PaymentActivityDeps } from '../activities/payments';
import { instrumentActivities } from '../activities/instrument';
import { createNotificationActivities } from '../activities/payments/notification-activities';
import { createBackupActivities, type BackupSettings } from '../activities/maintenance/backup-activities';
import { createSmokeActivities } from '../activities/maintenance/smoke-activities';
import { createPruneActivities } from '../activities/maintenance/prune-activities';
import type { Client } from '@temporalio/client';

export const workflowsPath = path.join(__dirname, '..', 'workflows');

export interface ActivityDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  mercadopago: PaymentActivityDeps['mercadopago'];
  publicBaseUrl: string;
  /** For activities that signal workflows (payment notifications). */
  temporal: Client;
  reportError?: (error: unknown, context: Record<string, unknown>) => void;
  /** Backup directory, retention and database; without it the backup activities refuse to run. */
  backups?: BackupSettings;
}

/** The dependency graph of every activity the worker runs. */
export function createActivities(deps: ActivityDeps) {
  return instrumentActivities(
    {
      ...createOrderActivities(deps),
      ...createPaymentActivities(deps),
      ...createNotificationActivities(deps),
      ...createBackupActivities({ ...deps, settings: deps.backups }),
      ...createSmokeActivities(deps),
      ...createPruneActivities(deps),
    },
    deps,
  );
}

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ReturnType<typeof createActivities>;
  /** A prebuilt bundle (production image, tests); without it the worker bundles workflows/ at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Workflows kept in memory between their tasks; an evicted one is replayed from history. */
  maxCachedWorkflows?: number;
  /** The payload codec (lib/payload-codec.ts); it must match the clients' or the worker cannot read their payloads. */
  dataConverter?: DataConverter;
  /** Worker Deployment Versioning (workers/deployment.ts); without it the worker is unversioned. */
  deployment?: WorkerOptions['workerDeploymentOptions'];
}

export function createWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    ...(setup.dataConverter ? { dataConverter: setup.dataConverter } : {}),
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve(workflowsPath) }),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? 50,
    maxConcurrentWorkflowTaskExecutions: setup.maxConcurrentWorkflowTaskExecutions ?? 50,
    // Placement and every order step run their writes as local activities inside the workflow task.
    maxConcurrentLocalActivityExecutions: 100,
    // The SDK's default sizes the cache from the heap limit (thousands of workflows on a large
    // machine, most of them orders idly waiting for a payment): the worker's RSS followed it to
    // ~1 GiB at saturation. Orders in motion are far fewer; an evicted one replays a short history.
    maxCachedWorkflows: setup.maxCachedWorkflows ?? 250,
    // The 1.24 SDK reads the poller behaviours; maxConcurrent*TaskPolls are ignored at runtime.
    // Autoscaling lets the server's answers add pollers under load and drop them when idle.
    workflowTaskPollerBehavior: { type: 'autoscaling', minimum: 2, initial: 4, maximum: 16 },
    activityTaskPollerBehavior: { type: 'autoscaling', minimum: 1, initial: 2, maximum: 8 },
    // Give in-flight activities time to finish their transaction on SIGTERM before the worker stops.
    shutdownGraceTime: '20 seconds',
    ...(setup.deployment ? { workerDeploymentOptions: setup.deployment } : {}),
  });
}
