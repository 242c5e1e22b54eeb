import { expect } from 'chai';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { ConfigError, loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { queueActivities, taskQueueName } from '../../workers/queues';
import { createActivities } from '../../workers/worker';

// Building the activities touches neither the database nor Temporal: the factories only close over them.
const deps = {
  db: {} as never,
  temporal: {} as never,
  logger: createLogger({ level: 'silent', name: 'test-queues' }),
  metrics: createMetrics({ defaultMetrics: false }),
  mercadopago: createMercadoPagoClient({ accessToken: 'TEST-unused', apiUrl: 'http://127.0.0.1:9', timeoutMs: 1000 }),
  publicBaseUrl: 'http://localhost',
};

describe('task queues of the worker', () => {
  it('when nothing is set, then orders run on cafe-flow, maintenance on cafe-flow-maintenance and a worker serves both', () => {
    const config = loadConfig({});
    expect(config.worker.taskQueues).to.deep.equal(['orders', 'maintenance']);
    expect(taskQueueName(config.temporal, 'orders')).to.equal('cafe-flow');
    expect(taskQueueName(config.temporal, 'maintenance')).to.equal('cafe-flow-maintenance');
  });

  it('when TEMPORAL_TASK_QUEUE is set, then the maintenance queue follows it unless named itself', () => {
    expect(loadConfig({ TEMPORAL_TASK_QUEUE: 'shop' }).temporal.maintenanceTaskQueue).to.equal('shop-maintenance');
    const named = loadConfig({ TEMPORAL_TASK_QUEUE: 'shop', TEMPORAL_MAINTENANCE_TASK_QUEUE: 'chores' });
    expect(named.temporal.maintenanceTaskQueue).to.equal('chores');
  });

  it('when WORKER_TASK_QUEUES names one queue, or one twice, then the worker serves it once', () => {
    expect(loadConfig({ WORKER_TASK_QUEUES: 'maintenance' }).worker.taskQueues).to.deep.equal(['maintenance']);
    expect(loadConfig({ WORKER_TASK_QUEUES: ' orders , orders' }).worker.taskQueues).to.deep.equal(['orders']);
  });

  it('when WORKER_TASK_QUEUES names an unknown or no queue, or both queues share a name, then the config is refused with the variable', () => {
    expect(() => loadConfig({ WORKER_TASK_QUEUES: 'orders,backups' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/WORKER_TASK_QUEUES.*orders or maintenance/);
    expect(() => loadConfig({ WORKER_TASK_QUEUES: ' , ' })).to.throw(ConfigError, /WORKER_TASK_QUEUES/);
    expect(() => loadConfig({ TEMPORAL_TASK_QUEUE: 'same', TEMPORAL_MAINTENANCE_TASK_QUEUE: 'same' })).to.throw(
      ConfigError,
      /TEMPORAL_MAINTENANCE_TASK_QUEUE: must differ/,
    );
  });

  it('when the activities are split, then each queue gets only its own and together they are every activity', () => {
    const orders = Object.keys(queueActivities('orders', deps));
    const maintenance = Object.keys(queueActivities('maintenance', deps));

    expect(orders).to.include.members(['recordOrderPlaced', 'createCheckout', 'refundPayment']);
    expect(orders).to.not.include.members(['dumpDatabase']);
    expect(maintenance).to.include.members(['dumpDatabase', 'restoreDrill', 'checkHealth', 'payAndConfirm']);
    expect(maintenance).to.not.include.members(['createCheckout']);
    expect(orders.filter((name) => maintenance.includes(name))).to.deep.equal([]);
    expect([...orders, ...maintenance].sort()).to.deep.equal(Object.keys(createActivities(deps)).sort());
  });
});
