import { ApplicationFailure, CancelledFailure, Context, type Info } from '@temporalio/activity';
import { withLogContext, type Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';

type ActivityFn = (...args: never[]) => Promise<unknown>;

// order:<businessId>:<orderId>, see workflows/orders/contracts.ts
const ORDER_WORKFLOW_ID = /^order:([^:]+):([^:]+)$/;

/** The ids a reader of the logs searches by: the workflow, and the order when there is one. */
function activityContext(name: string, info: Info, args: unknown[]) {
  const workflowId = info.workflowExecution?.workflowId;
  const input = args[0] as { orderId?: unknown; businessId?: unknown } | undefined;
  const fromId = workflowId?.match(ORDER_WORKFLOW_ID);
  const orderId = typeof input?.orderId === 'string' ? input.orderId : fromId?.[2];
  const businessId = typeof input?.businessId === 'string' ? input.businessId : fromId?.[1];
  return { activity: name, workflowId, workflowType: info.workflowType, orderId, businessId, attempt: info.attempt };
}

const elapsedMs = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

/**
 * No attempt will follow this one: the failure is non-retryable, or the retry policy is spent.
 * Only those reach Sentry; a retried failure is the normal way past a blip.
 */
function isFinal(error: unknown, info: Info): boolean {
  if (error instanceof CancelledFailure) return false;
  if (error instanceof ApplicationFailure && error.nonRetryable) return true;
  const policy = info.retryPolicy;
  const type = error instanceof ApplicationFailure ? error.type : (error as Error | undefined)?.name;
  if (type && policy?.nonRetryableErrorTypes?.includes(type)) return true;
  return Boolean(policy?.maximumAttempts && info.attempt >= policy.maximumAttempts);
}

/**
 * Wraps every activity with a duration histogram, a result counter, log lines carrying the
 * workflow and order ids (every line the activity itself writes too), and Sentry for final
 * failures, without touching the activities themselves.
 */
export function instrumentActivities<T extends Record<string, ActivityFn>>(
  activities: T,
  deps: { logger: Logger; metrics: Metrics; reportError?: (error: unknown, context: Record<string, unknown>) => void },
): T {
  const wrapped: Record<string, ActivityFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const info = Context.current().info;
      const context = activityContext(name, info, args);
      return withLogContext(context, async () => {
        const started = process.hrtime.bigint();
        try {
          const result = await fn(...args);
          deps.metrics.activityExecutions.inc({ activity: name, result: 'success' });
          deps.logger.debug({ durationMs: elapsedMs(started) }, 'activity completed');
          return result;
        } catch (error) {
          const final = isFinal(error, info);
          deps.metrics.activityExecutions.inc({ activity: name, result: final ? 'failure' : 'retry' });
          deps.logger.warn({ err: error, final }, 'activity failed');
          if (final) deps.reportError?.(error, context);
          throw error;
        } finally {
          deps.metrics.activityDuration.observe({ activity: name }, elapsedMs(started) / 1000);
        }
      });
    };
  }
  return wrapped as T;
}
