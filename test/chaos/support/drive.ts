import type { TestUser } from '../../support/fixtures';
import type { HttpClient } from '../../support/http';

/** Moving an order to the end its test planned for it, whatever step it is at now. */

export type Goal = 'completed' | 'cancelled' | 'refunded';

export interface Actors {
  api: HttpClient;
  customer: TestUser;
  staff: TestUser;
}

const NEXT_STAFF_ACTION: Record<string, string> = { paid: 'accept', preparing: 'ready', ready: 'complete' };

/** The next request towards `goal` from `status`, or undefined when only waiting helps (a payment on its way, a refund running). */
function nextStep(status: string, goal: Goal): { action: string; as: 'customer' | 'staff' } | undefined {
  if (goal === 'completed') return NEXT_STAFF_ACTION[status] ? { action: NEXT_STAFF_ACTION[status]!, as: 'staff' } : undefined;
  if (goal === 'cancelled') return status === 'pending_payment' ? { action: 'cancel', as: 'customer' } : undefined;
  return ['paid', 'preparing', 'ready'].includes(status) ? { action: 'cancel', as: 'staff' } : undefined;
}

/**
 * Reads the order and takes the next step until it reaches `goal`; a 409 (someone or something
 * moved it meanwhile) or a 503 is simply read again. Bounded in steps and time.
 */
export async function driveTo(actors: Actors, orderId: string, goal: Goal, timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = '';
  for (let step = 0; step < 200 && Date.now() < deadline; step++) {
    const read = await actors.api.get(`/v1/orders/${orderId}`, { token: actors.customer.token });
    status = read.status === 200 ? read.body.status : status;
    if (status === goal) return status;
    const next = read.status === 200 ? nextStep(status, goal) : undefined;
    if (!next) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    const user = next.as === 'staff' ? actors.staff : actors.customer;
    await actors.api.post(`/v1/orders/${orderId}/actions/${next.action}`, { reason: 'chaos test' }, { token: user.token });
  }
  throw new Error(`order ${orderId} did not reach ${goal} in ${timeoutMs} ms; last status ${status}`);
}
