import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';

export type ReadinessCheck = () => Promise<void>;

const CheckSchema = z.object({ status: z.enum(['up', 'down']), latencyMs: z.number(), error: z.string().optional() });
const ReadySchema = z
  .object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), CheckSchema) })
  .meta({ id: 'Readiness' });

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck) {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up' as const, latencyMs: Date.now() - started };
  } catch (error) {
    // The message names the dependency's failure (refused, timeout), never credentials.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { status: 'down' as const, latencyMs: Date.now() - started, error: message };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(api: ApiRoutes, checks: Record<string, ReadinessCheck>): void {
  api.add({
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    auth: 'none',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ body: { status: 'ok' } }),
  });

  api.add({
    method: 'get',
    path: '/ready',
    operationId: 'ready',
    summary: 'Readiness: Postgres and Temporal reachable',
    tags: ['operations'],
    auth: 'none',
    responses: {
      200: { description: 'Every dependency is up', schema: ReadySchema },
      503: { description: 'At least one dependency is down', schema: ReadySchema },
    },
    handler: async () => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => runCheck(checks[name] as ReadinessCheck)));
      const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
      const ready = results.every((result) => result.status === 'up');
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks: report } };
    },
  });
}
