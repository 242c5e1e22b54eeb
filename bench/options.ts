import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  quick: boolean;
  /** Seconds of each fixed-rate and saturation run. */
  durationSeconds: number;
  /** Offered placement rates, orders/s. */
  rates: number[];
  saturationConnections: number;
  warmupSeconds: number;
  /** Orders driven end to end. */
  orders: number;
  endToEndConcurrency: number;
  webhookRate: number;
  /** Placements per second keeping the worker busy while webhooks are measured. */
  backgroundRate: number;
  /** Paid orders the webhook notifications point at. */
  webhookPayments: number;
  /** `sqlite` (a file, as `npm start` runs it) or `memory` (the dev server's default), to see what persistence costs. */
  temporalPersistence: 'sqlite' | 'memory';
  /** A running cluster to measure instead of a dev server of the bench's own. */
  temporalAddress?: string;
  outDir: string;
  /** Write V8 CPU profiles of the worker and the API (node --cpu-prof) and print where their time went. */
  cpuProfile: boolean;
}

export const USAGE =
  'npm run bench -- [--quick] [--duration <s>] [--rates 10,25,50] [--orders <n>] [--webhook-rate <n>] [--temporal-db sqlite|memory | --temporal-address host:port] [--out <dir>] [--cpu-profile]';

const FULL = {
  durationSeconds: 15,
  // 5/s and 20/s are where the placement targets are set; 50/s is past the engine's ceiling here.
  rates: [5, 20, 50],
  saturationConnections: 32,
  warmupSeconds: 5,
  orders: 200,
  endToEndConcurrency: 20,
  webhookRate: 50,
  backgroundRate: 10,
  webhookPayments: 20,
};

// A few seconds per scenario: enough to exercise every path, not to measure anything.
const QUICK = {
  durationSeconds: 3,
  rates: [5, 20],
  saturationConnections: 8,
  warmupSeconds: 2,
  orders: 10,
  endToEndConcurrency: 5,
  webhookRate: 10,
  backgroundRate: 3,
  webhookPayments: 3,
};

const positive = (name: string, value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`--${name} must be an integer from 1 to 10000, got ${value}`);
  return n;
};

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rates: { type: 'string' },
      orders: { type: 'string' },
      'webhook-rate': { type: 'string' },
      'temporal-db': { type: 'string', default: 'sqlite' },
      'temporal-address': { type: 'string' },
      out: { type: 'string' },
      'cpu-profile': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const preset = values.quick ? QUICK : FULL;
  const persistence = values['temporal-db'];
  if (persistence !== 'sqlite' && persistence !== 'memory')
    throw new Error(`--temporal-db must be sqlite or memory, got ${persistence}`);
  const rates = values.rates?.split(',').map((rate) => positive('rates', rate.trim(), 0)) ?? preset.rates;
  return {
    ...preset,
    quick: values.quick ?? false,
    durationSeconds: positive('duration', values.duration, preset.durationSeconds),
    rates: [...new Set(rates)].sort((a, b) => a - b),
    orders: positive('orders', values.orders, preset.orders),
    webhookRate: positive('webhook-rate', values['webhook-rate'], preset.webhookRate),
    temporalPersistence: persistence,
    temporalAddress: values['temporal-address'],
    outDir: path.resolve(values.out ?? path.join(__dirname, 'results')),
    cpuProfile: values['cpu-profile'] ?? false,
  };
}
