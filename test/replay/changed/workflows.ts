// The order workflow as a careless change would leave it: a new timer before anything else, with
// no patched() guard. Replaying old histories on it must fail.
import { sleep } from '@temporalio/workflow';
import { processOrder as current } from '../../../workflows/orders/order-workflow';

export { processPaymentNotification } from '../../../workflows/payments/notification-workflow';

export async function processOrder(...args: Parameters<typeof current>): ReturnType<typeof current> {
  await sleep('1 second');
  return current(...args);
}
