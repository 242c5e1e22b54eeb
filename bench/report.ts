import type { WindowUsage } from './proc-stats';
import type { EndToEndReport } from './scenarios/end-to-end';
import type { PlacementReport } from './scenarios/placement';
import type { WebhookReport } from './scenarios/webhooks';

export interface Scenarios {
  placement: PlacementReport;
  endToEnd: EndToEndReport;
  webhooks: WebhookReport;
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

/** The targets the lead compares against; a noisy machine makes a fail a question, not a verdict. */
export function evaluateTargets(scenarios: Scenarios): Target[] {
  const at50 = scenarios.placement.runs.find((run) => run.target === 'temporal' && run.offeredRate === 50);
  const belowSaturation = [
    ...scenarios.placement.runs.filter((run) => run.target === 'temporal' && run.mode === 'rate'),
    scenarios.webhooks.atRate,
  ];
  const errors = belowSaturation.reduce((sum, run) => sum + failures(run), 0) + scenarios.endToEnd.failed;
  const ack = scenarios.webhooks.atRate.latencyMs.p99;
  return [
    at50
      ? {
          name: 'placement p95 < 100 ms at 50 orders/s',
          status: at50.latencyMs.p95 < 100 ? 'pass' : 'fail',
          actual: at50.latencyMs.p95,
        }
      : { name: 'placement p95 < 100 ms at 50 orders/s', status: 'not_measured', actual: null, note: 'no run at 50/s (--rates)' },
    { name: 'webhook ack p99 < 50 ms', status: ack < 50 ? 'pass' : 'fail', actual: ack },
    { name: 'zero errors below saturation', status: errors === 0 ? 'pass' : 'fail', actual: errors },
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
    `Before a placement is answered: ${placement.criticalPath.workflowTasks} workflow tasks, activities ${placement.criticalPath.activities.join(' → ')}, ${placement.criticalPath.historyEvents} history events`,
  ].join('\n');
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
    placementTable(scenarios.placement),
    endToEndLines(scenarios.endToEnd),
    webhookLines(scenarios.webhooks),
    resourceLines(scenarios.resources),
    ['Targets', ...targetLines].join('\n'),
  ].join('\n\n');
}
