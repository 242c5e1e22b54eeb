import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { loadConfig } from '../../lib/config';
import { payloadDataConverter, type PayloadKey } from '../../lib/payload-codec';
import { ensureSearchAttributes, requireBinary, SEARCH_ATTRIBUTES, temporalBinaries } from '../../lib/temporal';
import { workflowsPath } from '../../workers/worker';

const config = loadConfig();
const binaries = temporalBinaries(config.temporal);
const searchAttributes = Object.keys(SEARCH_ATTRIBUTES).map((name) => ({ name, type: 'KEYWORD' as const }));

let devServer: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundle> | undefined;

/**
 * The real Temporal dev server (the CLI installed by scripts/install-temporal.sh), shared by the
 * whole run; or the cluster at TEMPORAL_ADDRESS when one is configured.
 */
export function temporalDevServer(): Promise<TestWorkflowEnvironment> {
  devServer ??= config.temporal.address
    ? TestWorkflowEnvironment.createFromExistingServer({
        address: config.temporal.address,
        namespace: config.temporal.namespace,
      })
    : TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: requireBinary(binaries.cli, 'Temporal CLI') },
          ip: '127.0.0.1',
          searchAttributes: searchAttributes as never,
          extraArgs: ['--log-level', 'error'],
        },
      });
  return devServer;
}

/**
 * A client of `env` that encrypts payloads as the app's does (lib/payload-codec.ts). `env.client`
 * has no codec: it sees history as the server stores it.
 */
export function codecClient(env: TestWorkflowEnvironment, keys: PayloadKey[]): Client {
  return new Client({
    connection: env.connection,
    namespace: env.namespace ?? 'default',
    dataConverter: payloadDataConverter(keys),
  });
}

/** The time-skipping test server, for timer-heavy tests; each file creates and tears down its own. */
export async function timeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(binaries.testServer, 'Temporal test server') } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export async function tearDownTemporal(): Promise<void> {
  if (devServer) await (await devServer).teardown();
  devServer = undefined;
}

/** Workflows bundled once per run: every worker in the suite reuses it. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve(workflowsPath), logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: unknown) => console.error(message, meta),
  log: () => undefined,
};

export const uniqueTaskQueue = (name: string) => `test-${name}-${randomUUID()}`;

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Starts a worker in the background and returns a stop that waits for it to finish. */
export async function runWorker(worker: Worker, taskQueue: string): Promise<RunningWorker> {
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
