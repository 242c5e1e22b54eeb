import { expect } from 'chai';
import type { SmokeReport } from '../../workflows/maintenance/smoke-contracts';
import { startStack, type TestStack } from '../support/stack';
import { runOperatorScript, writeTestStackFile } from './operator-support';
import { removeTempDirs } from './support';

describe('npm run smoke next to npm start', () => {
  let stack: TestStack;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ name: 'smoke-discovered' });
  });
  after(async () => {
    await stack?.stop();
    await removeTempDirs();
  });

  it('when only --url is given, then it finds Temporal and the emulator of the stack and the payment check runs', async function () {
    this.timeout(120_000);
    const stackFile = await writeTestStackFile({
      temporal: {
        address: stack.env.address,
        namespace: stack.config.temporal.namespace,
        taskQueue: stack.taskQueue,
        maintenanceTaskQueue: stack.maintenanceTaskQueue,
      },
      databaseUrl: stack.config.database.url!,
      apiUrl: stack.baseUrl,
      mercadopagoEmulatorUrl: stack.emulator.url,
    });

    // The latency budget is production's business; the rate-limit burst would lock this app out for a minute.
    const run = await runOperatorScript('smoke.ts', ['--url', stack.baseUrl, '--p95-ms', '5000', '--burst', '0'], stackFile);

    expect(run.stdout).to.contain(`using the stack of npm start (pid ${process.pid}): Temporal ${stack.env.address}`);
    expect(run.stdout).to.not.contain('the payment check is skipped');
    const workflowId = /^smoke check started: workflow (\S+)/m.exec(run.stdout)?.[1];
    expect(workflowId, run.stderr || run.stdout).to.be.a('string');
    const handle = stack.client.workflow.getHandle(workflowId!);
    const report = (await handle.result()) as SmokeReport;
    expect(report.checks.find((check) => check.name === 'payOrder')).to.deep.include({ status: 'passed', ok: true });
    expect(run.code, run.stderr).to.equal(0);
    expect((await handle.describe()).taskQueue).to.equal(stack.maintenanceTaskQueue);
  });

  it('when no stack is running and TEMPORAL_ADDRESS is unset, then it says so and exits 2', async function () {
    this.timeout(30_000);
    const run = await runOperatorScript('smoke.ts', ['--url', stack.baseUrl], '/nonexistent/stack.json');

    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain('start the stack with npm start or set TEMPORAL_ADDRESS');
  });
});
