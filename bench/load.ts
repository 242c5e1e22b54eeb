import autocannon from 'autocannon';
import { percentiles, round, type Percentiles } from './stats';

/** One HTTP endpoint under load; `next` builds each request, so every one can be unique. */
export interface Endpoint {
  url: string;
  next(): { path: string; headers: Record<string, string>; body?: string };
}

export interface LoadResult {
  mode: 'rate' | 'saturation';
  offeredRate: number | null;
  connections: number;
  durationSeconds: number;
  responses: number;
  /** 2xx answers per second. */
  throughput: number;
  /** Latency of 2xx answers, in ms. */
  latencyMs: Percentiles;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

// Generous: at saturation a placement can wait long for a worker slot, and a timeout would hide it.
const REQUEST_TIMEOUT_SECONDS = 30;

interface Collector {
  latencies: number[];
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

type RunOptions = { connections: number; durationSeconds: number; rate?: number };

/** One autocannon instance whose answers land in `into`. */
function launch(endpoint: Endpoint, options: RunOptions, into: Collector) {
  const instance = autocannon({
    url: endpoint.url,
    connections: options.connections,
    duration: options.durationSeconds,
    overallRate: options.rate,
    timeout: REQUEST_TIMEOUT_SECONDS,
    requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...endpoint.next() }) }],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    into.statusCodes[statusCode] = (into.statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) into.latencies.push(responseTime);
  });
  const done = Promise.resolve(instance).then((result) => {
    into.errors += result.errors - result.timeouts;
    into.timeouts += result.timeouts;
  });
  return { stop: () => instance.stop(), done };
}

const run = (endpoint: Endpoint, options: RunOptions, into: Collector) => launch(endpoint, options, into).done;

function summarise(mode: LoadResult['mode'], rate: number | null, connections: number, seconds: number, c: Collector) {
  const responses = Object.values(c.statusCodes).reduce((sum, count) => sum + count, 0);
  const non2xx = Object.entries(c.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    mode,
    offeredRate: rate,
    connections,
    durationSeconds: seconds,
    responses,
    throughput: round(c.latencies.length / seconds, 1),
    latencyMs: percentiles(c.latencies),
    errors: c.errors,
    timeouts: c.timeouts,
    non2xx,
    statusCodes: c.statusCodes,
  };
}

const collector = (): Collector => ({ latencies: [], statusCodes: {}, errors: 0, timeouts: 0 });

/**
 * A fixed offered rate. autocannon's rate limit releases every connection's quota at the top of
 * the same second, which would turn "50 orders/s" into one burst of 50 each second; so each
 * connection is an instance of its own at 1 request/s, started 1/rate s after the previous one,
 * and arrivals are evenly spread. A request slower than 1 s delays its connection's next one:
 * the achieved rate then falls below the offered one, which the report shows.
 */
export async function atRate(endpoint: Endpoint, rate: number, durationSeconds: number): Promise<LoadResult> {
  const into = collector();
  const runs: Promise<void>[] = [];
  for (let i = 0; i < rate; i++) {
    runs.push(run(endpoint, { connections: 1, durationSeconds, rate: 1 }, into));
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
  }
  await Promise.all(runs);
  return summarise('rate', rate, rate, durationSeconds, into);
}

/** Closed loop: `connections` requests always in flight, as fast as the server answers. */
export async function atSaturation(endpoint: Endpoint, connections: number, durationSeconds: number): Promise<LoadResult> {
  const into = collector();
  await run(endpoint, { connections, durationSeconds }, into);
  return summarise('saturation', null, connections, durationSeconds, into);
}

/** For background load that must stop when the measured load does; spread like `atRate`. */
export function backgroundRate(endpoint: Endpoint, rate: number, maxSeconds: number) {
  const into = collector();
  const instances: ReturnType<typeof launch>[] = [];
  const started = (async () => {
    for (let i = 0; i < rate; i++) {
      instances.push(launch(endpoint, { connections: 1, durationSeconds: maxSeconds, rate: 1 }, into));
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
    }
  })();
  return {
    async stop(): Promise<Record<string, number>> {
      await started;
      for (const instance of instances) instance.stop();
      await Promise.all(instances.map((instance) => instance.done));
      return into.statusCodes;
    },
  };
}
