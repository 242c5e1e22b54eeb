import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { recordNotification } from '../../db/repositories/webhooks';
import { maintenanceSchedules } from '../../workers/schedules';
import { PRUNE_NOTIFICATIONS_SCHEDULE_ID, type pruneWebhookNotifications } from '../../workflows/maintenance/prune-notifications';
import { startStack, type TestStack } from '../support/stack';

describe('webhook notification retention', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startStack({ name: 'prune-notifications' });
  });
  after(() => stack?.stop());

  async function stored(ageDays: number, processed: boolean): Promise<string> {
    const id = `mp:test:${randomUUID()}`;
    await recordNotification(stack.db, {
      id,
      provider: 'mercadopago',
      kind: 'ipn',
      topic: 'payment',
      resourceId: '1',
      requestId: null,
      signed: false,
      query: {},
      body: null,
    });
    await stack
      .db('webhookNotifications')
      .where({ id })
      .update({
        receivedAt: stack.db.raw(`now() - interval '${ageDays} days'`),
        // Held far in the future so the running relay leaves the pending ones alone.
        ...(processed
          ? { processedAt: stack.db.fn.now(), outcome: 'test' }
          : { availableAt: stack.db.raw(`now() + interval '1 day'`) }),
      });
    return id;
  }

  it('when the prune workflow runs, then processed notifications past the retention go and recent or pending ones stay', async () => {
    const old = await stored(45, true);
    const recent = await stored(2, true);
    const pendingOld = await stored(45, false);
    const result = await stack.client.workflow.execute<typeof pruneWebhookNotifications>('pruneWebhookNotifications', {
      taskQueue: stack.maintenanceTaskQueue,
      workflowId: `prune-test-${randomUUID()}`,
      args: [{ olderThanDays: 30 }],
    });
    expect(result.deleted).to.be.at.least(1);
    const left = (await stack.db('webhookNotifications').whereIn('id', [old, recent, pendingOld]).select('id')).map((r) => r.id);
    expect(left.sort()).to.deep.equal([recent, pendingOld].sort());
  });

  it('when the worker ensures its schedules, then a daily prune runs on the maintenance queue with the configured retention', () => {
    const prune = maintenanceSchedules(stack.config).find((schedule) => schedule.scheduleId === PRUNE_NOTIFICATIONS_SCHEDULE_ID);
    expect(prune?.action).to.deep.include({ workflowType: 'pruneWebhookNotifications', taskQueue: stack.maintenanceTaskQueue });
    expect(prune?.action.type === 'startWorkflow' && prune.action.args).to.deep.equal([{ olderThanDays: 30 }]);
  });
});
