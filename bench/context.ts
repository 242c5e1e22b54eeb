import type { Sampler, WindowUsage } from './proc-stats';
import type { BenchStack } from './stack';
import type { BenchOptions } from './options';

export interface Seed {
  cafeId: string;
  ownerToken: string;
  customerToken: string;
  menu: { id: string; name: string; priceMinor: number }[];
}

export interface BenchContext {
  stack: BenchStack;
  sampler: Sampler;
  seed: Seed;
  options: BenchOptions;
  /** Unique per run, so keys and ids never collide with another run on the same database. */
  runId: string;
  log(message: string): void;
}

/** Runs `work` between two samples and returns its result with the processes' usage meanwhile. */
export async function measured<T>(ctx: BenchContext, work: () => Promise<T>): Promise<{ result: T; resources: WindowUsage }> {
  const from = await ctx.sampler.mark();
  const result = await work();
  const to = await ctx.sampler.mark();
  return { result, resources: ctx.sampler.window(from, to) };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** JSON over fetch with a deadline; the bench never waits on one call without bound. */
export async function call(
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The order body every scenario places: two lines from the seeded menu. */
export const orderBody = (seed: Seed) => ({
  items: [
    { productId: seed.menu[0]!.id, quantity: 2 },
    { productId: seed.menu[1]!.id, quantity: 1 },
  ],
});
