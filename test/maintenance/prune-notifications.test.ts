import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { maintenanceSchedules } from '../../workers/schedules';
import { PRUNE_NOTIFICATIONS_SCHEDULE_ID, type pruneWebhookNotifications } from '../../workflows/maintenance/prune-notifications';
import { useOrderStack } from '../support/use-stack';

describe('webhook notification retention', () => {
  const the = useOrderStack({ name: 'prune-notifications', cafe: false, customer: false });

  /** Written in one insert, already aged (and, when pending, held past the test), so the running relay never takes it. */
  async function stored(ageDays: number, processed: boolean): Promise<string> {
    const id = `mp:test:${randomUUID()}`;
    const { db } = the.stack;
    await db('webhookNotifications').insert({
      id,
      provider: 'mercadopago',
      kind: 'ipn',
      topic: 'payment',
      resourceId: '1',
      signed: false,
      query: '{}',
      body: 'null',
      receivedAt: db.raw(`now() - make_interval(days => ?)`, [ageDays]),
      ...(processed ? { processedAt: db.fn.now(), outcome: 'test' } : { availableAt: db.raw(`now() + interval '1 day'`) }),
    });
    return id;
  }

  it('when the prune workflow runs, then processed notifications past the retention go and recent or pending ones stay', async () => {
    const old = await stored(45, true);
    const recent = await stored(2, true);
    const pendingOld = await stored(45, false);
    const result = await the.stack.client.workflow.execute<typeof pruneWebhookNotifications>('pruneWebhookNotifications', {
      taskQueue: the.stack.maintenanceTaskQueue,
      workflowId: `prune-test-${randomUUID()}`,
      args: [{ olderThanDays: 30 }],
    });
    expect(result.deleted).to.be.at.least(1);
    const left = (await the.stack.db('webhookNotifications').whereIn('id', [old, recent, pendingOld]).select('id')).map(
      (r) => r.id,
    );
    expect(left.sort()).to.deep.equal([recent, pendingOld].sort());
  });

  it('when the worker ensures its schedules, then a daily prune runs on the maintenance queue with the configured retention', () => {
    const prune = maintenanceSchedules(the.stack.config).find(
      (schedule) => schedule.scheduleId === PRUNE_NOTIFICATIONS_SCHEDULE_ID,
    );
    expect(prune?.action).to.deep.include({
      workflowType: 'pruneWebhookNotifications',
      taskQueue: the.stack.maintenanceTaskQueue,
    });
    expect(prune?.action.type === 'startWorkflow' && prune.action.args).to.deep.equal([{ olderThanDays: 30 }]);
  });
});
