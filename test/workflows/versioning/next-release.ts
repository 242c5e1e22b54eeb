// The next release's workflows, as the versioning test deploys them: every workflow of today,
// with an order workflow that starts with a timer. That change is incompatible with histories
// of today's code (test/replay has the same kind of change), so only the worker versioning
// keeps orders started before the deploy alive: they never replay on this code.
import { sleep } from '@temporalio/workflow';
import { processOrder as current } from '../../../workflows/orders/order-workflow';

export * from '../../../workflows';

export async function processOrder(...args: Parameters<typeof current>): ReturnType<typeof current> {
  await sleep('1 second');
  return current(...args);
}
