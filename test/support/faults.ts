import { ApplicationFailure } from '@temporalio/common';
import type { createActivities } from '../../workers/worker';

type Activities = ReturnType<typeof createActivities>;

/**
 * Wraps the read-model activity so it writes for real, then fails its first `times` attempts of
 * every event: what a worker that crashed before reporting the completion looks like to Temporal.
 * `failures` counts the injected failures per `<orderId>:<seq>`.
 */
export function failingAfterCommit(failures: Map<string, number>, times = 2) {
  return (activities: Activities): Activities => ({
    ...activities,
    async recordOrderEvent(input) {
      await activities.recordOrderEvent(input);
      const key = `${input.event.orderId}:${input.event.seq}`;
      const seen = failures.get(key) ?? 0;
      if (seen < times) {
        failures.set(key, seen + 1);
        throw ApplicationFailure.retryable('transient failure after commit', 'TransientTestFailure');
      }
    },
  });
}
