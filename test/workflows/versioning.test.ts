import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import { createDb, type Db } from '../../db/knex';
import { insertBusiness } from '../../db/repositories/businesses';
import { insertProduct } from '../../db/repositories/products';
import { insertUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { startMercadoPagoEmulator, type MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { buildIdOf, deploymentOptions, workflowCode } from '../../workers/deployment';
import { createActivities, createWorker } from '../../workers/worker';
import { cancelUpdate, orderWorkflowId, statusQuery, type OrderInput } from '../../workflows/orders/contracts';
import { testDatabaseUrl } from '../support/env';
import { eventually } from '../support/orders';
import { runWorker, temporalDevServer, uniqueTaskQueue, workflowBundle, type RunningWorker } from '../support/temporal';

const { EventType, VersioningBehavior, VersionDrainageStatus } = temporal.api.enums.v1;

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * A deploy as scripts/deploy_production.sh does it, on the real dev server: release N's worker
 * runs today's workflows, release N+1's worker runs an incompatible order workflow beside it,
 * and N+1 becomes the current version. Orders are pinned, so the one placed on N finishes on N.
 */
describe('worker versioning: an order finishes on the release that started it', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let client: Client;
  let db: Db;
  let emulator: MercadoPagoEmulator;
  const workers: RunningWorker[] = [];
  const taskQueue = uniqueTaskQueue('versioning');
  const deploymentName = `test-versioning-${randomUUID().slice(0, 8)}`;
  const namespace = 'default';

  before(async () => {
    env = await temporalDevServer();
    client = env.client;
    db = createDb({ url: testDatabaseUrl(), poolMax: 3 });
    emulator = await startMercadoPagoEmulator({ port: 0, deliverNotifications: false });
  });
  after(async () => {
    for (const worker of workers.splice(0)) await worker.stop();
    await emulator?.stop();
    await db?.destroy();
  });

  async function startRelease(bundle: WorkflowBundle): Promise<string> {
    const buildId = buildIdOf(bundle.code);
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      workflowBundle: bundle,
      deployment: deploymentOptions({ enabled: true, deploymentName }, buildId),
      activities: createActivities({
        db,
        logger: createLogger({ level: 'silent', name: 'test' }),
        metrics: createMetrics({ defaultMetrics: false }),
        mercadopago: createMercadoPagoClient({ accessToken: emulator.accessTokens[0]!, apiUrl: emulator.url, timeoutMs: 5000 }),
        temporal: client,
        publicBaseUrl: 'http://127.0.0.1:9',
      }),
    });
    workers.push(await runWorker(worker, taskQueue));
    return buildId;
  }

  // What `temporal worker deployment set-current-version` does; the version exists once its worker has polled.
  const makeCurrent = (buildId: string) =>
    eventually(
      () =>
        client.workflowService.setWorkerDeploymentCurrentVersion({ namespace, deploymentName, buildId }).then(
          () => true,
          () => false,
        ),
      (done) => done,
      30_000,
    );

  const drainage = async (buildId: string) => {
    const { workerDeploymentVersionInfo } = await client.workflowService.describeWorkerDeploymentVersion({
      namespace,
      deploymentVersion: { deploymentName, buildId },
    });
    return workerDeploymentVersionInfo?.drainageInfo?.status ?? VersionDrainageStatus.VERSION_DRAINAGE_STATUS_UNSPECIFIED;
  };

  async function placeOrder(): Promise<{ handle: WorkflowHandle; input: OrderInput }> {
    const customer = await insertUser(db, { email: `v-${randomUUID()}@example.test`, name: 'V', passwordHash: 'x' });
    const business = await insertBusiness(db, { name: 'Versioned', currency: 'ARS', timeZone: 'UTC' });
    const product = await insertProduct(db, business.id, { name: 'Cortado', priceMinor: 1500 });
    const input: OrderInput = {
      orderId: randomUUID(),
      businessId: business.id,
      customerId: customer.id,
      idempotencyKey: randomUUID(),
      requestHash: 'hash',
      currency: 'ARS',
      items: [{ productId: product.id, name: product.name, unitPriceMinor: 1500, quantity: 1, lineTotalMinor: 1500 }],
      totalMinor: 1500,
      notes: null,
      pickupName: null,
      paymentTimeoutSeconds: 15 * 60,
      acceptTimeoutSeconds: 10 * 60,
    };
    const handle = await client.workflow.start('processOrder', {
      taskQueue,
      workflowId: orderWorkflowId(input.businessId, input.orderId),
      args: [input],
    });
    await eventually(
      () => handle.query(statusQuery).catch(() => null),
      (status) => status === 'pending_payment',
    );
    return { handle, input };
  }

  const cancel = (order: { handle: WorkflowHandle; input: OrderInput }) =>
    order.handle.executeUpdate(cancelUpdate, {
      args: [{ actor: { kind: 'customer', userId: order.input.customerId }, reason: 'changed my mind' }],
    });

  const versioningOf = async (handle: WorkflowHandle) => (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;

  /** The build id of every worker that completed a workflow task of the order, and whether its history has a timer first. */
  async function whoRan(handle: WorkflowHandle) {
    const events = (await handle.fetchHistory()).events ?? [];
    const builds = new Set(
      events
        .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        .map((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId),
    );
    const firstCommand = events.find((event) =>
      [
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_MARKER_RECORDED,
      ].includes(event.eventType!),
    );
    return { builds: [...builds], startsWithTimer: firstCommand?.eventType === EventType.EVENT_TYPE_TIMER_STARTED };
  }

  it('when the worker reads its versioning settings, then off is unversioned, a WORKER_BUILD_ID is used as given, and none means the hash of the bundle it runs', async () => {
    const bundle = await workflowBundle();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-bundle-')), 'workflow-bundle.js');
    fs.writeFileSync(file, bundle.code);
    const settings = { deploymentName: 'cafe-flow' };

    const off = await workflowCode({ ...settings, enabled: false }, file);
    const tagged = await workflowCode({ ...settings, enabled: true, buildId: 'v2.3.0' }, file);
    const hashed = await workflowCode({ ...settings, enabled: true }, file);

    expect(off).to.deep.equal({ workflowBundle: { codePath: file } });
    expect(tagged.deployment).to.deep.equal({
      version: { deploymentName: 'cafe-flow', buildId: 'v2.3.0' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    });
    expect(hashed.deployment?.version.buildId)
      .to.equal(buildIdOf(bundle.code))
      .and.match(/^wf-[0-9a-f]{16}$/);
    expect(hashed.workflowBundle, 'the hashed code is the code that runs').to.deep.equal({ code: bundle.code });
  });

  it('when release N+1 becomes current while an order placed on N waits for payment, then that order finishes on N and new orders run on N+1', async () => {
    const releaseN = await startRelease(await workflowBundle());
    await makeCurrent(releaseN);
    const early = await placeOrder();

    const next = await bundleWorkflowCode({ workflowsPath: require.resolve('./versioning/next-release'), logger: quietLogger });
    const releaseN1 = await startRelease(next);
    expect(releaseN1, 'different workflow code, different build id').to.not.equal(releaseN);
    await makeCurrent(releaseN1);
    await eventually(
      () => drainage(releaseN),
      (status) => status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING,
    );
    const late = await placeOrder();

    expect((await cancel(early)).status).to.equal('cancelled');
    expect((await cancel(late)).status).to.equal('cancelled');
    expect((await early.handle.result()).status).to.equal('cancelled');
    expect((await late.handle.result()).status).to.equal('cancelled');

    const earlyVersioning = await versioningOf(early.handle);
    expect(earlyVersioning?.behavior).to.equal(VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);
    expect(earlyVersioning?.deploymentVersion).to.deep.include({ deploymentName, buildId: releaseN });
    expect((await versioningOf(late.handle))?.deploymentVersion).to.deep.include({ deploymentName, buildId: releaseN1 });
    expect(await whoRan(early.handle), 'every task of the early order on N, with N code').to.deep.equal({
      builds: [releaseN],
      startsWithTimer: false,
    });
    expect(await whoRan(late.handle), 'every task of the late order on N+1, with N+1 code').to.deep.equal({
      builds: [releaseN1],
      startsWithTimer: true,
    });
  });
});
