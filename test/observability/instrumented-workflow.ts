// A workflow for test/observability/activities.test.ts only: it runs one activity through the
// worker's instrumentation and reports how it ended.
import { proxyActivities } from '@temporalio/workflow';

export interface ChargeInput {
  orderId: string;
  /** flaky: fails the first attempt; declined: non-retryable; down: fails every attempt. */
  scenario: 'flaky' | 'declined' | 'down';
}

const { chargeCard } = proxyActivities<{ chargeCard(input: ChargeInput): Promise<string> }>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '50 milliseconds', backoffCoefficient: 1, maximumAttempts: 3 },
});

export async function chargeOrder(input: ChargeInput): Promise<string> {
  try {
    return await chargeCard(input);
  } catch {
    return 'failed';
  }
}
