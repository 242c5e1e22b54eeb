import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { connectClient } from '../lib/temporal';
import {
  SMOKE_WORKFLOW_TYPE,
  manualSmokeWorkflowId,
  type CheckResult,
  type SmokeInput,
  type SmokeReport,
} from '../workflows/maintenance/smoke-contracts';
import { describeDiscovery, discoverStack, notFound } from './stack/discover';

const USAGE =
  'usage: npm run smoke -- --url <base-url> [--emulator <mercadopago-emulator-url>] [--p95-ms N] [--pay-timeout-ms N] [--burst N]';

const OPTIONS = {
  url: { type: 'string' },
  emulator: { type: 'string' },
  'p95-ms': { type: 'string' },
  'pay-timeout-ms': { type: 'string' },
  burst: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/**
 * Runs the deploySmokeCheck workflow now against a deployment, waits for it and prints its
 * checks as a table. Defaults come from the SMOKE_* configuration; next to `npm start`, from the
 * stack it runs (its API, its Temporal and the emulator it pays through). Exit code 0 when every check
 * passed, 1 when one failed (or the run could not finish), 2 on bad usage.
 */
export async function runSmoke(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const discovery = discoverStack(env);
  const { config } = discovery;
  const baseUrl = values.url ?? config.smoke.baseUrl ?? discovery.stack?.apiUrl;
  if (!baseUrl || !isHttpUrl(baseUrl)) return usage('--url (or SMOKE_BASE_URL) must be an http(s) URL');
  if (values.emulator && !isHttpUrl(values.emulator)) return usage('--emulator must be an http(s) URL');
  if (!config.temporal.address) return usage(notFound(discovery, ['TEMPORAL_ADDRESS']));
  const numbers = {
    p95Ms: count(values['p95-ms'], config.smoke.p95Ms),
    payTimeoutMs: count(values['pay-timeout-ms']),
    rateLimitBurst: count(values.burst, config.smoke.rateLimitBurst),
  };
  const bad = Object.entries(numbers).find(([, value]) => Number.isNaN(value));
  if (bad) return usage(`${bad[0]} must be a whole number`);

  const input: SmokeInput = { baseUrl, emulatorUrl: values.emulator ?? config.smoke.emulatorUrl, ...numbers };
  const using = describeDiscovery(discovery);
  if (using) console.log(using);
  const client = await connectClient({ ...config.temporal, address: config.temporal.address });
  try {
    const handle = await client.workflow.start(SMOKE_WORKFLOW_TYPE, {
      taskQueue: config.temporal.maintenanceTaskQueue,
      workflowId: manualSmokeWorkflowId(new Date()),
      args: [input],
      workflowExecutionTimeout: '15 minutes',
    });
    console.log(`smoke check started: workflow ${handle.workflowId} against ${baseUrl}`);
    if (!input.emulatorUrl) console.log('  no MercadoPago emulator given: the payment check is skipped');
    const report = (await handle.result()) as SmokeReport;
    printReport(report);
    return report.result === 'pass' ? 0 : 1;
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? (error.cause ?? error) : error;
    console.error(`smoke check did not finish: ${cause instanceof Error ? cause.message : String(cause)}`);
    return 1;
  } finally {
    await client.connection.close();
  }
}

export function printReport(report: SmokeReport): void {
  console.log(table(report.checks));
  console.log('\ncleanup');
  console.log(table(report.cleanup));
  const failed = report.checks.filter((check) => !check.ok).map((check) => check.name);
  const leftovers = report.cleanup.some((step) => !step.ok) ? ' (cleanup incomplete, see above)' : '';
  console.log(`\nsmoke check ${report.result.toUpperCase()}${failed.length ? `: ${failed.join(', ')} failed` : ''}${leftovers}`);
}

function table(rows: CheckResult[]): string {
  const lines = [['check', 'result', 'time', 'detail'], ...rows.map(cells)];
  const widths = [0, 1, 2].map((column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function cells(row: CheckResult): string[] {
  return [row.name, row.status, `${row.durationMs} ms`, row.error ?? row.detail ?? ''];
}

function usage(problem: string): number {
  console.error(`${problem}\n${USAGE}`);
  return 2;
}

const isHttpUrl = (value: string) => /^https?:\/\/[^\s/]+/.test(value);

/** A non-negative integer from a flag, the fallback when absent, NaN when malformed. */
function count(value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  return /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

if (require.main === module) {
  runSmoke(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
