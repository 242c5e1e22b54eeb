import { Client, Connection } from '@temporalio/client';
import type { Db } from '../../db/knex';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { engineCost, perOrder } from '../engine-cost';
import { bearer, call, measured, orderBody, type BenchContext } from '../context';
import { StatusWatcher } from '../status-watcher';
import type { WindowUsage } from '../proc-stats';
import { percentiles, round, type Percentiles } from '../stats';

export interface EndToEndReport {
  orders: number;
  concurrency: number;
  completed: number;
  failed: number;
  failures: string[];
  wallSeconds: number;
  completedPerSecond: number;
  /** placed → payment_approved, from the order_events timestamps the workflow wrote. */
  placedToPaidMs: Percentiles;
  /** The buyer paying at the provider → payment_approved: webhook, notification workflow, signal. */
  paymentToPaidMs: Percentiles;
  placementMs: Percentiles;
  /** accept, ready and complete: each an Update answered once its event is in Postgres. */
  staffActionMs: Percentiles;
  /** Engine work per completed order, counted from the real histories of this run. */
  engine: EngineWork;
  resources: WindowUsage;
}

export interface EngineWork extends ReturnType<typeof perOrder> {
  /** Executions started on the product's orders queue during the run: processOrder, and any other. */
  executionsByType: Record<string, number>;
  /** The most any one completed order took. */
  maxWorkflowTasks: number;
}

/** Histories of the completed orders, and every execution the run started on the product's queue. */
async function engineWork(ctx: BenchContext, timings: Timings[], since: Date, until: Date): Promise<EngineWork> {
  const connection = await Connection.connect({ address: ctx.stack.temporal.address });
  try {
    const client = new Client({ connection });
    const costs = [];
    for (const timing of timings) {
      const history = await client.workflow.getHandle(orderWorkflowId(ctx.seed.cafeId, timing.orderId)).fetchHistory();
      costs.push(engineCost(history));
    }
    // Counts only: listing would decode memos, which the product encrypts with its own key.
    const query = `TaskQueue = '${ctx.stack.taskQueue}' AND StartTime >= '${since.toISOString()}' AND StartTime <= '${until.toISOString()}'`;
    const executions = (await client.workflow.count(query)).count;
    const orders = (await client.workflow.count(`${query} AND WorkflowType = 'processOrder'`)).count;
    const executionsByType: Record<string, number> = { processOrder: orders };
    if (executions > orders) executionsByType.other = executions - orders;
    const each = perOrder(costs, timings.length);
    return {
      ...each,
      executions: timings.length ? round(executions / timings.length, 2) : 0,
      executionsByType,
      maxWorkflowTasks: Math.max(0, ...costs.map((cost) => cost.workflowTasks)),
    };
  } finally {
    await connection.close();
  }
}

interface Timings {
  orderId: string;
  started: number;
  payRequestedAt: number;
  done: number;
  placementMs: number;
  actionMs: number[];
}

/** Places an order as the customer and pays it at the emulator; resolves once the order shows paid. */
export async function placeAndPay(ctx: BenchContext, watcher: StatusWatcher, key: string, deadline: number) {
  const { stack, seed } = ctx;
  const started = Date.now();
  const placed = await call('POST', `${stack.api.url}/v1/businesses/${seed.cafeId}/orders`, {
    headers: { ...bearer(seed.customerToken), 'idempotency-key': key },
    body: orderBody(seed),
  });
  if (placed.status !== 201) throw new Error(`placement answered ${placed.status}: ${JSON.stringify(placed.body)}`);
  const placementMs = Date.now() - started;
  const orderId = placed.body.id as string;
  const payRequestedAt = Date.now();
  const payment = await call('POST', `${stack.emulator.url}/__emulator/preferences/${placed.body.payment.preferenceId}/pay`, {
    body: { status: 'approved' },
  });
  if (payment.status !== 201) throw new Error(`paying answered ${payment.status}`);
  await watcher.until(orderId, 'paid', deadline);
  return { orderId, paymentId: String(payment.body.id), started, placementMs, payRequestedAt };
}

async function driveOne(ctx: BenchContext, watcher: StatusWatcher, n: number, deadline: number): Promise<Timings> {
  const paid = await placeAndPay(ctx, watcher, `bench-e2e-${ctx.runId}-${n}`, deadline);
  const actionMs: number[] = [];
  for (const action of ['accept', 'ready', 'complete']) {
    const at = Date.now();
    const answer = await call('POST', `${ctx.stack.api.url}/v1/orders/${paid.orderId}/actions/${action}`, {
      headers: bearer(ctx.seed.ownerToken),
      body: {},
    });
    if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    actionMs.push(Date.now() - at);
  }
  return { ...paid, done: Date.now(), actionMs };
}

/** placed → payment_approved per order, read back from the events the workflow recorded. */
async function paidLatencies(db: Db, timings: Timings[]) {
  const rows: { orderId: string; type: string; occurredAt: Date }[] = await db('orderEvents')
    .whereIn(
      'orderId',
      timings.map((t) => t.orderId),
    )
    .whereIn('type', ['placed', 'payment_approved'])
    .select('orderId', 'type', 'occurredAt');
  const at = (orderId: string, type: string) => rows.find((row) => row.orderId === orderId && row.type === type)?.occurredAt;
  const placedToPaid: number[] = [];
  const paymentToPaid: number[] = [];
  for (const timing of timings) {
    const placed = at(timing.orderId, 'placed');
    const approved = at(timing.orderId, 'payment_approved');
    if (!placed || !approved) continue;
    placedToPaid.push(approved.getTime() - placed.getTime());
    paymentToPaid.push(approved.getTime() - timing.payRequestedAt);
  }
  return { placedToPaidMs: percentiles(placedToPaid), paymentToPaidMs: percentiles(paymentToPaid) };
}

/**
 * N orders through their whole life, `concurrency` at a time: placed through the API, paid at the
 * emulator (which sends the signed webhook), then accepted, made ready and completed by staff.
 */
export async function endToEndScenario(ctx: BenchContext): Promise<EndToEndReport> {
  const { orders, endToEndConcurrency: concurrency } = ctx.options;
  ctx.log(`end to end: ${orders} orders, ${concurrency} at a time`);
  // Generous, but bounded: 5 s per order per lane on top of a minute.
  const deadline = Date.now() + 60_000 + (orders / concurrency) * 5_000;
  const watcher = new StatusWatcher(ctx.stack.db);
  const timings: Timings[] = [];
  const failures: string[] = [];
  let next = 0;
  const since = new Date();
  const { resources } = await measured(ctx, async () => {
    const lane = async () => {
      while (next < orders && Date.now() < deadline) {
        const n = ++next;
        try {
          timings.push(await driveOne(ctx, watcher, n, deadline));
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  });
  const first = Math.min(...timings.map((t) => t.started));
  const wallSeconds = timings.length ? (Math.max(...timings.map((t) => t.done)) - first) / 1000 : 0;
  return {
    orders,
    concurrency,
    completed: timings.length,
    failed: orders - timings.length,
    failures: failures.slice(0, 10),
    wallSeconds: round(wallSeconds, 1),
    completedPerSecond: wallSeconds > 0 ? round(timings.length / wallSeconds, 2) : 0,
    ...(await paidLatencies(ctx.stack.db, timings)),
    placementMs: percentiles(timings.map((t) => t.placementMs)),
    staffActionMs: percentiles(timings.flatMap((t) => t.actionMs)),
    engine: await engineWork(ctx, timings, since, new Date()),
    resources,
  };
}
