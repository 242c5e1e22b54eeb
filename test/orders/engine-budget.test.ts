import { expect } from 'chai';
import { engineCost, firstWorkflowTask, taskAcceptingUpdate } from '../../bench/engine-cost';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { registerUser } from '../support/fixtures';
import { act, orderWithStatus, pay, placeOrder } from '../support/orders';
import { executionsSince, injectNotificationFault, notificationsProcessed } from '../support/payments';
import { useOrderStack } from '../support/use-stack';

/**
 * What one order costs the engine, counted from its real history: each workflow task is a trip
 * through the server (and a billed action on Temporal Cloud), each regular activity another.
 * Budgets, not timings: they hold however busy the machine is.
 */
const BUDGET = { workflowTasks: 6, activityTasks: 0 };

describe('engine work per order', () => {
  const the = useOrderStack({ name: 'engine-budget', customer: false });

  it('when an order is placed, paid (webhooks redelivered), accepted, made ready and completed, then its history stays within budget', async () => {
    const since = new Date(Date.now() - 1000);
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    await injectNotificationFault(the.stack, { type: 'duplicate', copies: 3 });
    const payment = await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    for (const action of ['accept', 'ready', 'complete'])
      expect((await act(the.api, the.cafe.owner, order.id, action)).status).to.equal(200);
    await orderWithStatus(the.api, customer, order.id, 'completed');
    await notificationsProcessed(the.stack, [payment.id]);

    const handle = the.stack.client.workflow.getHandle(orderWorkflowId(the.cafe.id, order.id));
    await handle.result();
    const history = await handle.fetchHistory();
    const cost = engineCost(history);
    expect(cost.workflowTasks, JSON.stringify(cost)).to.be.at.most(BUDGET.workflowTasks);
    expect(cost.activityTasks, JSON.stringify(cost)).to.equal(BUDGET.activityTasks);
    expect(cost.localActivities).to.include.members(['recordOrderPlaced', 'createCheckout', 'recordOrderEvent']);

    const first = firstWorkflowTask(history);
    expect(first.localActivities).to.deep.equal(['recordOrderPlaced', 'createCheckout']);
    expect(first.activityTasks).to.equal(0);
    expect(first.answeredPlacement, 'the place update is answered by the first workflow task').to.equal(true);

    // The payment reached the order as a signal: no execution per notification or per payment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await executionsSince(the.stack, since)).to.deep.equal(['processOrder']);
  });

  it('when a staff update arrives, then it is answered from the one workflow task that records it', async () => {
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, the.cafe);
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    expect((await act(the.api, the.cafe.owner, order.id, 'accept')).status).to.equal(200);

    // Counted on the task that accepted the update, not as a before/after difference: a late
    // redelivered payment notification may add its own (no-op) signal task in between.
    const handle = the.stack.client.workflow.getHandle(orderWorkflowId(the.cafe.id, order.id));
    const history = await handle.fetchHistory();
    const task = taskAcceptingUpdate(history, 'accept');
    expect(task, 'an accept update in the history').to.not.equal(undefined);
    expect(task?.answered, 'accepted and completed by the same workflow task').to.equal(true);
    expect(task?.localActivities).to.deep.equal(['recordOrderEvent']);
    expect(task?.activityTasks).to.equal(0);
    expect(engineCost(history).activityTasks).to.equal(0);
  });
});
