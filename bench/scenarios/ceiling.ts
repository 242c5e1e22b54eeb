import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { BenchContext } from '../context';
import { percentiles, round, type Percentiles } from '../stats';
import { placeLike } from '../workflows/ceiling';

export interface CeilingRun {
  workflow: string;
  concurrency: number;
  durationSeconds: number;
  completed: number;
  errors: number;
  perSecond: number;
  latencyMs: Percentiles;
}

export interface CeilingReport {
  bare: CeilingRun;
  updateWithStartTwoLocal: CeilingRun;
  note: string;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Keeps `concurrency` executions in flight for `seconds`, counting the ones that finished. */
async function drive(workflow: string, concurrency: number, seconds: number, run: (n: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const at = Date.now();
        try {
          await run(++n);
          latencies.push(Date.now() - at);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  return {
    workflow,
    concurrency,
    durationSeconds: round(elapsed, 1),
    completed: latencies.length,
    errors,
    perSecond: round(latencies.length / elapsed, 1),
    latencyMs: percentiles(latencies),
  } satisfies CeilingRun;
}

/**
 * The engine's ceiling on this machine, measured in the same run against the same server as the
 * product: a bare workflow's executions/s, and Update-with-Start with two no-op local activities
 * (the shape of a placement). The worker for these runs in the bench process with the product
 * worker's sizing; the product's own processes are idle meanwhile.
 */
export function ceilingScenario(ctx: BenchContext): Promise<CeilingReport> {
  return measureCeiling(ctx.stack.temporal.address, {
    seconds: ctx.options.durationSeconds,
    concurrency: ctx.options.saturationConnections,
    runId: ctx.runId,
    log: ctx.log,
  });
}

export async function measureCeiling(
  address: string,
  options: { seconds: number; concurrency: number; runId: string; log(message: string): void },
): Promise<CeilingReport> {
  const { seconds, concurrency } = options;
  const ctx = options;
  const taskQueue = `bench-ceiling-${ctx.runId}`;
  ctx.log(`engine ceiling: bundling the no-op workflows`);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/ceiling'), logger: quiet });
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities: { noop: async () => undefined },
    maxConcurrentWorkflowTaskExecutions: 50,
    maxConcurrentLocalActivityExecutions: 100,
    maxCachedWorkflows: 250,
    workflowTaskPollerBehavior: { type: 'autoscaling', minimum: 2, initial: 4, maximum: 16 },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    ctx.log(`engine ceiling: bare workflows, ${concurrency} in flight for ${seconds} s`);
    const bare = await drive('bareWorkflow', concurrency, seconds, (n) =>
      client.workflow.execute('bareWorkflow', { taskQueue, workflowId: `ceiling-bare-${ctx.runId}-${n}` }),
    );
    ctx.log(`engine ceiling: Update-with-Start + two local activities, ${concurrency} in flight for ${seconds} s`);
    const uws = await drive('updateWithStartTwoLocal', concurrency, seconds, (n) =>
      client.workflow.executeUpdateWithStart(placeLike, {
        startWorkflowOperation: new WithStartWorkflowOperation('updateWithStartTwoLocal', {
          workflowId: `ceiling-uws-${ctx.runId}-${n}`,
          taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );
    return {
      bare,
      updateWithStartTwoLocal: uws,
      note: 'no-op workflows on a worker in the bench process, same server, same run',
    };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
  }
}
