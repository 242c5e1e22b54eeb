import { bearer, call, measured, orderBody, type BenchContext } from '../context';
import { atRate, atSaturation, type Endpoint, type LoadResult } from '../load';
import { placementPath, type PlacementPath } from '../placement-path';
import type { WindowUsage } from '../proc-stats';
import { percentiles, ratio, type Percentiles } from '../stats';

export type Target = 'temporal' | 'baseline';

export interface PlacementRun extends LoadResult {
  target: Target;
  resources: WindowUsage;
}

export interface PlacementReport {
  endpoints: Record<Target, string>;
  runs: PlacementRun[];
  /** Temporal ÷ baseline, per offered rate and at saturation. */
  durabilityPrice: {
    offeredRate: number | 'saturation';
    p50Ratio: number | null;
    p95Ratio: number | null;
    p99Ratio: number | null;
    throughputRatio: number | null;
  }[];
  /** Server-side time of the MercadoPago preference call inside each placement (emulator's own log). */
  providerPreferenceMs: Percentiles;
  /** The round trips one placement makes before it is answered, from a placed order's history. */
  criticalPath: PlacementPath;
}

function placementEndpoint(ctx: BenchContext, target: Target): Endpoint {
  const { seed, stack } = ctx;
  const base = target === 'temporal' ? stack.api.url : stack.baseline.url;
  const prefix = target === 'temporal' ? '/v1' : '/baseline';
  const headers = bearer(seed.customerToken);
  const body = JSON.stringify(orderBody(seed));
  let n = 0;
  return {
    url: base,
    next: () => ({
      path: `${prefix}/businesses/${seed.cafeId}/orders`,
      headers: { ...headers, 'idempotency-key': `bench-${target}-${ctx.runId}-${++n}` },
      body,
    }),
  };
}

function price(runs: PlacementRun[], offered: number | 'saturation') {
  const pick = (target: Target) =>
    runs.find(
      (run) => run.target === target && (offered === 'saturation' ? run.mode === 'saturation' : run.offeredRate === offered),
    );
  const durable = pick('temporal');
  const plain = pick('baseline');
  if (!durable || !plain) return undefined;
  return {
    offeredRate: offered,
    p50Ratio: ratio(durable.latencyMs.p50, plain.latencyMs.p50),
    p95Ratio: ratio(durable.latencyMs.p95, plain.latencyMs.p95),
    p99Ratio: ratio(durable.latencyMs.p99, plain.latencyMs.p99),
    // Below 1 when durability costs throughput: the baseline serves more per second.
    throughputRatio: ratio(durable.throughput, plain.throughput),
  };
}

async function preferenceCallTimes(ctx: BenchContext): Promise<Percentiles> {
  const query = new URLSearchParams({ method: 'POST', path: '^/checkout/preferences/?$' });
  const { body } = await call('GET', `${ctx.stack.emulator.url}/__emulator/requests?${query}`, { timeoutMs: 60_000 });
  return percentiles((body.requests as { durationMs: number }[]).map((request) => request.durationMs));
}

async function anyPlacedWorkflow(ctx: BenchContext): Promise<string> {
  const row = await ctx.stack.db('orders').where('workflowId', 'like', 'order:%').first('workflowId');
  return row.workflowId;
}

/**
 * Order placement through the API (Update-with-Start: the workflow records the order and creates
 * the checkout before answering) next to the baseline, at each offered rate, then at saturation.
 * The two targets alternate so both see the same machine state.
 */
export async function placementScenario(ctx: BenchContext): Promise<PlacementReport> {
  const { options } = ctx;
  const endpoints = { temporal: placementEndpoint(ctx, 'temporal'), baseline: placementEndpoint(ctx, 'baseline') };
  const targets: Target[] = ['temporal', 'baseline'];
  const runs: PlacementRun[] = [];
  const record = async (target: Target, label: string, work: () => Promise<LoadResult>) => {
    ctx.log(`placement: ${target} ${label}`);
    const { result, resources } = await measured(ctx, work);
    runs.push({ target, ...result, resources });
  };

  ctx.log(`placement: warming up (${options.warmupSeconds} s per target, not reported)`);
  for (const target of targets) await atRate(endpoints[target], 5, options.warmupSeconds);

  for (const rate of options.rates) {
    for (const target of targets) {
      await record(target, `${rate}/s for ${options.durationSeconds} s`, () =>
        atRate(endpoints[target], rate, options.durationSeconds),
      );
    }
  }
  for (const target of targets) {
    await record(target, `saturation (${options.saturationConnections} connections)`, () =>
      atSaturation(endpoints[target], options.saturationConnections, options.durationSeconds),
    );
  }
  const durabilityPrice = [...options.rates, 'saturation' as const]
    .map((offered) => price(runs, offered))
    .filter((entry) => entry !== undefined);
  return {
    endpoints: { temporal: 'POST /v1/businesses/:id/orders', baseline: 'POST /baseline/businesses/:id/orders' },
    runs,
    durabilityPrice,
    providerPreferenceMs: await preferenceCallTimes(ctx),
    criticalPath: await placementPath(ctx.stack.temporal.address, await anyPlacedWorkflow(ctx)),
  };
}
