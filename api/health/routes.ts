import { z } from 'zod';
import type { AppContext } from '../http/context';
import type { ApiRoutes } from '../http/routes';

export type ReadinessCheck = () => Promise<void>;

const CheckSchema = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number().optional().meta({ description: 'Only for requests from this host' }),
  error: z.string().optional().meta({ description: 'Only for requests from this host; otherwise in the log' }),
});
const ReadySchema = z
  .object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), CheckSchema) })
  .meta({ id: 'Readiness' });

const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = z.infer<typeof CheckSchema>;

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Date.now() - started };
  } catch (error) {
    // The message names the dependency's failure (refused, timeout), never credentials.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { status: 'down', latencyMs: Date.now() - started, error: message };
  } finally {
    clearTimeout(timer);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/**
 * A probe on this host (the container's healthcheck, an operator's curl) may read why a
 * dependency is down. Anything else, and anything a proxy relayed (nginx runs elsewhere and
 * always sets X-Forwarded-For), only learns up or down: hostnames, ports and driver messages
 * would map our network for an attacker. Read from the socket, not `ctx.ip`, which
 * TRUST_PROXY lets a header decide.
 */
function fromThisHost(ctx: AppContext): boolean {
  return LOOPBACK.has(ctx.req.socket.remoteAddress ?? '') && FORWARDING_HEADERS.every((name) => ctx.get(name) === '');
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
      503: {
        description: 'At least one dependency is down; why is logged, and shown only to requests from this host',
        schema: ReadySchema,
      },
    },
    handler: async (ctx) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => runCheck(checks[name] as ReadinessCheck)));
      names.forEach((name, i) => {
        const result = results[i] as CheckResult;
        if (result.status === 'down') ctx.state.log.warn({ check: name, ...result }, 'readiness check failed');
      });
      const detailed = fromThisHost(ctx);
      const report = Object.fromEntries(
        names.map((name, i) => {
          const result = results[i] as CheckResult;
          return [name, detailed ? result : { status: result.status }];
        }),
      );
      const ready = results.every((result) => result.status === 'up');
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks: report } };
    },
  });
}
