import type { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { createBackupActivities } from '../activities/maintenance/backup-activities';
import { createPruneActivities } from '../activities/maintenance/prune-activities';
import { createSmokeActivities } from '../activities/maintenance/smoke-activities';
import type { Config, TaskQueueKind } from '../lib/config';
import { createActivities, createWorker, type ActivityDeps } from './worker';

/**
 * Customer-facing work (orders, payments) and maintenance (backups, restore drills, smoke checks)
 * run on task queues of their own, each polled by a Worker of its own with its own slots: a
 * three-hour pg_dump holds a maintenance slot, never one a checkout is waiting for.
 */

type Activities = Partial<ReturnType<typeof createActivities>>;

/** The task queue of each kind of work. */
export function taskQueueName(temporal: Config['temporal'], kind: TaskQueueKind): string {
  return kind === 'orders' ? temporal.taskQueue : temporal.maintenanceTaskQueue;
}

// Orders keep the worker's usual 50/50. Maintenance runs a few long activities at a time: more
// parallel dumps or drills would only compete for the database's disk and CPU.
const SLOTS: Record<TaskQueueKind, { activities: number; workflowTasks: number }> = {
  orders: { activities: 50, workflowTasks: 50 },
  maintenance: { activities: 4, workflowTasks: 10 },
};

/** Names of the activities that belong on the maintenance queue; every other one is an order's. */
function maintenanceActivityNames(deps: ActivityDeps): Set<string> {
  const backups = createBackupActivities({ ...deps, settings: deps.backups });
  return new Set([
    ...Object.keys(backups),
    ...Object.keys(createSmokeActivities(deps)),
    ...Object.keys(createPruneActivities(deps)),
  ]);
}

/**
 * The activities the Worker of `kind` registers: only its own, so the other kind's cannot run
 * there. `all` is every activity of the worker (a test may hand in a wrapped set).
 */
export function queueActivities(kind: TaskQueueKind, deps: ActivityDeps, all = createActivities(deps)): Activities {
  const maintenance = maintenanceActivityNames(deps);
  return Object.fromEntries(
    Object.entries(all).filter(([name]) => maintenance.has(name) === (kind === 'maintenance')),
  ) as Activities;
}

export interface QueueWorker {
  kind: TaskQueueKind;
  taskQueue: string;
  worker: Worker;
}

export interface QueueWorkersSetup {
  connection: NativeConnection;
  config: Config;
  kinds: TaskQueueKind[];
  deps: ActivityDeps;
  /** Every activity, when not the one `createActivities(deps)` builds (tests wrap them). */
  activities?: ReturnType<typeof createActivities>;
  /** One bundle for every Worker of the process, so the workflow code is bundled (and held) once. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  deployment?: WorkerOptions['workerDeploymentOptions'];
  dataConverter?: WorkerOptions['dataConverter'];
}

/** One Worker per task queue the process serves, each with the slots and activities of its kind. */
export async function createQueueWorkers(setup: QueueWorkersSetup): Promise<QueueWorker[]> {
  const workers: QueueWorker[] = [];
  for (const kind of setup.kinds) {
    const taskQueue = taskQueueName(setup.config.temporal, kind);
    const worker = await createWorker({
      connection: setup.connection,
      namespace: setup.config.temporal.namespace,
      taskQueue,
      activities: queueActivities(kind, setup.deps, setup.activities) as ReturnType<typeof createActivities>,
      workflowBundle: setup.workflowBundle,
      maxConcurrentActivityTaskExecutions: SLOTS[kind].activities,
      maxConcurrentWorkflowTaskExecutions: SLOTS[kind].workflowTasks,
      ...(setup.deployment ? { deployment: setup.deployment } : {}),
      ...(setup.dataConverter ? { dataConverter: setup.dataConverter } : {}),
    });
    workers.push({ kind, taskQueue, worker });
  }
  return workers;
}
