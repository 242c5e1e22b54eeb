import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';

type ActivityFn = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity with a duration histogram, a result counter and a log line carrying the
 * workflow id, without touching the activities themselves.
 */
export function instrumentActivities<T extends Record<string, ActivityFn>>(
  activities: T,
  deps: { logger: Logger; metrics: Metrics; reportError?: (error: unknown, context: Record<string, unknown>) => void },
): T {
  const wrapped: Record<string, ActivityFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const info = Context.current().info;
      const started = process.hrtime.bigint();
      const context = { activity: name, workflowId: info.workflowExecution?.workflowId, attempt: info.attempt };
      try {
        const result = await fn(...args);
        deps.metrics.activityExecutions.inc({ activity: name, result: 'success' });
        return result;
      } catch (error) {
        const final = error instanceof ApplicationFailure && error.nonRetryable;
        deps.metrics.activityExecutions.inc({ activity: name, result: final ? 'failure' : 'retry' });
        deps.logger.warn({ ...context, err: error }, 'activity failed');
        if (final) deps.reportError?.(error, context);
        throw error;
      } finally {
        deps.metrics.activityDuration.observe({ activity: name }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  }
  return wrapped as T;
}
