import type { WindowUsage } from './proc-stats';
import type { AuthMemoryReport } from './scenarios/auth-memory';
import type { CeilingReport } from './scenarios/ceiling';
import type { EndToEndReport } from './scenarios/end-to-end';
import type { PlacementReport } from './scenarios/placement';
import type { WebhookReport } from './scenarios/webhooks';

export interface Scenarios {
  ceiling: CeilingReport;
  placement: PlacementReport;
  endToEnd: EndToEndReport;
  webhooks: WebhookReport;
  auth: AuthMemoryReport;
  resources: {
    /** Per process group over the whole run. */
    processes: Record<
      string,
      { scope: string; pids: number[]; cpuCoresAverage?: number; peakPssMiB?: number; peakProcessHwmMiB: number }
    >;
    /** Average cores used by each group during each scenario. */
    cpuCoresByScenario: Record<string, Record<string, number>>;
  };
}

export interface Target {
  name: string;
  status: 'pass' | 'fail' | 'not_measured';
  actual: number | null;
  note?: string;
}

const failures = (run: { errors: number; timeouts: number; non2xx: number }) => run.errors + run.timeouts + run.non2xx;

const target = (name: string, pass: boolean | undefined, actual: number | null, note?: string): Target =>
  pass === undefined || actual === null
    ? { name, status: 'not_measured', actual: null, ...(note ? { note } : {}) }
    : { name, status: pass ? 'pass' : 'fail', actual, ...(note ? { note } : {}) };

/** Placements/s at saturation and completed orders/s, as shares of the engine's own ceiling. */
export function ceilingRatios(scenarios: Scenarios) {
  const saturation = scenarios.placement.runs.find((run) => run.target === 'temporal' && run.mode === 'saturation');
  const uws = scenarios.ceiling.updateWithStartTwoLocal.perSecond;
  const bare = scenarios.ceiling.bare.perSecond;
  const share = (value: number | undefined, of: number) =>
    value === undefined || of <= 0 ? null : Math.round((value / of) * 100) / 100;
  return {
    placementsOfUpdateWithStartCeiling: share(saturation?.throughput, uws),
    completedOrdersOfBareCeiling: share(scenarios.endToEnd.completedPerSecond, bare),
  };
}

/** The engine-cost issue's targets; a noisy machine makes a fail a question, not a verdict. */
export function evaluateTargets(scenarios: Scenarios): Target[] {
  const run = (rate: number) =>
    scenarios.placement.runs.find((r) => r.target === 'temporal' && r.mode === 'rate' && r.offeredRate === rate);
  const at5 = run(5);
  const at20 = run(20);
  const belowSaturation = [
    ...scenarios.placement.runs.filter((r) => r.target === 'temporal' && r.mode === 'rate' && (r.offeredRate ?? 0) <= 20),
    scenarios.webhooks.atRate,
  ];
  const errors = belowSaturation.reduce((sum, r) => sum + failures(r), 0) + scenarios.endToEnd.failed;
  const engine = scenarios.endToEnd.engine;
  const ratios = ceilingRatios(scenarios);
  const workerPeak = scenarios.resources.processes.worker?.peakProcessHwmMiB ?? null;
  const auth = scenarios.auth;
  return [
    target(
      'happy-path order: at most 6 workflow tasks',
      engine.orders > 0 ? engine.maxWorkflowTasks <= 6 : undefined,
      engine.maxWorkflowTasks,
    ),
    target(
      'happy-path order: 0 regular activity tasks',
      engine.orders > 0 ? engine.activityTasks === 0 : undefined,
      engine.activityTasks,
    ),
    target(
      'at most 1 other workflow execution per payment',
      engine.orders > 0 ? engine.executions - 1 <= 1 : undefined,
      Math.round((engine.executions - 1) * 100) / 100,
    ),
    target(
      'placement p50 <= 40 ms at 5/s',
      at5 ? at5.latencyMs.p50 <= 40 : undefined,
      at5?.latencyMs.p50 ?? null,
      at5 ? undefined : 'no run at 5/s',
    ),
    target(
      'placement p95 <= 100 ms at 20/s',
      at20 ? at20.latencyMs.p95 <= 100 : undefined,
      at20?.latencyMs.p95 ?? null,
      at20 ? undefined : 'no run at 20/s',
    ),
    target(
      'sustained placements/s >= 0.9 x the engine ceiling (Update-with-Start + 2 local activities)',
      ratios.placementsOfUpdateWithStartCeiling === null ? undefined : ratios.placementsOfUpdateWithStartCeiling >= 0.9,
      ratios.placementsOfUpdateWithStartCeiling,
    ),
    target(
      'end to end >= 15 completed orders/s',
      scenarios.endToEnd.completedPerSecond >= 15,
      scenarios.endToEnd.completedPerSecond,
    ),
    target(
      `webhook ack p99 <= 20 ms at ${scenarios.webhooks.atRate.offeredRate}/s while placing`,
      scenarios.webhooks.atRate.latencyMs.p99 <= 20,
      scenarios.webhooks.atRate.latencyMs.p99,
    ),
    target('worker peak RSS <= 300 MiB', workerPeak === null ? undefined : workerPeak <= 300, workerPeak),
    target(
      `API peak RSS under ${auth.concurrency} concurrent register/login <= the API container limit (${auth.apiContainerLimitMiB} MiB)`,
      auth.apiPeakRssMiB <= auth.apiContainerLimitMiB,
      auth.apiPeakRssMiB,
    ),
    target('zero errors below saturation', errors === 0, errors),
  ];
}

function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) => row.map((cell, i) => cell.padStart(i === 0 ? 0 : widths[i]!).padEnd(widths[i]!)).join('  '))
    .join('\n');
}

const perSecond = (value: number | null) => (value === null ? 'max' : `${value}/s`);
const cores = (usage: WindowUsage, name: string) => usage.cpuCores[name] ?? 0;

function placementTable(placement: PlacementReport): string {
  const rows = placement.runs.map((run) => [
    run.target,
    perSecond(run.offeredRate),
    run.throughput,
    run.latencyMs.p50,
    run.latencyMs.p95,
    run.latencyMs.p99,
    run.latencyMs.max,
    failures(run),
    cores(run.resources, run.target === 'temporal' ? 'api' : 'baseline'),
    cores(run.resources, 'worker'),
    cores(run.resources, 'temporal'),
    cores(run.resources, 'postgres'),
  ]);
  const price = placement.durabilityPrice.map((entry) => [
    perSecond(entry.offeredRate === 'saturation' ? null : entry.offeredRate),
    entry.p50Ratio,
    entry.p95Ratio,
    entry.p99Ratio,
    entry.throughputRatio,
  ]);
  return [
    'Order placement (latency ms of 2xx; cpu in cores)',
    table(
      ['target', 'offered', '2xx/s', 'p50', 'p95', 'p99', 'max', 'errors', 'cpu app', 'worker', 'temporal', 'postgres'],
      rows,
    ),
    '',
    'Price of durability (temporal ÷ baseline)',
    table(['offered', 'p50 ×', 'p95 ×', 'p99 ×', 'throughput ×'], price),
    `MercadoPago preference call inside placement (emulator side): p50 ${placement.providerPreferenceMs.p50} ms, p95 ${placement.providerPreferenceMs.p95} ms`,
    `Before a placement is answered: ${placement.criticalPath.workflowTasks} workflow task(s), activities ${placement.criticalPath.activities.join(' → ')} (${placement.criticalPath.localActivities} local), ${placement.criticalPath.historyEvents} history events`,
  ].join('\n');
}

function ceilingLines(ceiling: CeilingReport, ratios: ReturnType<typeof ceilingRatios>): string {
  const row = (r: CeilingReport['bare']) => [
    r.workflow,
    r.concurrency,
    r.completed,
    r.perSecond,
    r.latencyMs.p50,
    r.latencyMs.p95,
    r.errors,
  ];
  return [
    `Engine ceiling (${ceiling.note})`,
    table(
      ['workflow', 'in flight', 'completed', 'per s', 'p50 ms', 'p95 ms', 'errors'],
      [row(ceiling.bare), row(ceiling.updateWithStartTwoLocal)],
    ),
    `placements/s at saturation = ${ratios.placementsOfUpdateWithStartCeiling ?? '-'} x the Update-with-Start ceiling; completed orders/s = ${ratios.completedOrdersOfBareCeiling ?? '-'} x the bare-workflow ceiling`,
  ].join('\n');
}

function engineLines(engine: EndToEndReport['engine']): string {
  const types = Object.entries(engine.executionsByType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  return [
    `Engine work per completed order (${engine.orders} orders, from their histories): ${engine.workflowTasks} workflow tasks (max ${engine.maxWorkflowTasks}), ${engine.activityTasks} activity tasks, ${engine.localActivities} local activities, ${engine.historyEvents} history events, ${engine.executions} executions (${types || 'none'})`,
  ].join('\n');
}

function authLines(auth: AuthMemoryReport): string {
  const codes = Object.entries(auth.statusCodes)
    .map(([code, n]) => `${code}: ${n}`)
    .join(', ');
  return `Auth under ${auth.concurrency} concurrent register/login (${auth.requests} requests; ${codes}): API peak RSS ${auth.apiPeakRssMiB} MiB, container limit ${auth.apiContainerLimitMiB} MiB`;
}

function endToEndLines(e2e: EndToEndReport): string {
  return [
    `End to end: ${e2e.completed}/${e2e.orders} completed (${e2e.concurrency} at a time) in ${e2e.wallSeconds} s = ${e2e.completedPerSecond} orders/s`,
    table(
      ['latency ms', 'p50', 'p95', 'p99', 'max'],
      [
        ['placed → paid', e2e.placedToPaidMs.p50, e2e.placedToPaidMs.p95, e2e.placedToPaidMs.p99, e2e.placedToPaidMs.max],
        ['payment → paid', e2e.paymentToPaidMs.p50, e2e.paymentToPaidMs.p95, e2e.paymentToPaidMs.p99, e2e.paymentToPaidMs.max],
        ['placement', e2e.placementMs.p50, e2e.placementMs.p95, e2e.placementMs.p99, e2e.placementMs.max],
        ['staff action', e2e.staffActionMs.p50, e2e.staffActionMs.p95, e2e.staffActionMs.p99, e2e.staffActionMs.max],
      ],
    ),
    ...(e2e.failures.length ? [`failures: ${e2e.failures.join(' | ')}`] : []),
  ].join('\n');
}

function webhookLines(webhooks: WebhookReport): string {
  const row = (run: WebhookReport['atRate']) => [
    perSecond(run.offeredRate),
    run.throughput,
    run.latencyMs.p50,
    run.latencyMs.p95,
    run.latencyMs.p99,
    failures(run),
    cores(run.resources, 'api'),
    cores(run.resources, 'worker'),
  ];
  return [
    `Webhook ingestion (signed POSTs, placements at ${webhooks.backgroundPlacementRate}/s meanwhile)`,
    table(
      ['offered', '2xx/s', 'p50', 'p95', 'p99', 'errors', 'cpu api', 'worker'],
      [row(webhooks.atRate), row(webhooks.atSaturation)],
    ),
    `processing: ${webhooks.notificationsProcessed}/${webhooks.notificationsRecorded} notifications, ${webhooks.processedPerSecond}/s; backlog drained ${webhooks.drainSeconds ?? 'NOT'} s after the load`,
  ].join('\n');
}

function resourceLines(resources: Scenarios['resources']): string {
  const names = Object.keys(resources.processes);
  const scenarios = Object.keys(resources.cpuCoresByScenario);
  const rows = names.map((name) => [
    name,
    resources.processes[name]!.peakProcessHwmMiB,
    resources.processes[name]!.peakPssMiB ?? 0,
    ...scenarios.map((scenario) => resources.cpuCoresByScenario[scenario]![name] ?? 0),
  ]);
  return [
    'Resources (VmHWM: peak RSS of the largest process; PSS: peak of the group; then average cores per scenario)',
    table(['process', 'VmHWM MiB', 'PSS MiB', ...scenarios], rows),
  ].join('\n');
}

export function render(scenarios: Scenarios, targets: Target[]): string {
  const targetLines = targets.map(
    (target) =>
      `[${target.status === 'not_measured' ? 'N/A ' : target.status.toUpperCase()}] ${target.name}: ${target.actual ?? '-'}${target.note ? ` (${target.note})` : ''}`,
  );
  return [
    ceilingLines(scenarios.ceiling, ceilingRatios(scenarios)),
    placementTable(scenarios.placement),
    endToEndLines(scenarios.endToEnd),
    engineLines(scenarios.endToEnd.engine),
    webhookLines(scenarios.webhooks),
    authLines(scenarios.auth),
    resourceLines(scenarios.resources),
    ['Targets', ...targetLines].join('\n'),
  ].join('\n\n');
}
