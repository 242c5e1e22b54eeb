import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrateLatest, type Db } from '../db/knex';
import { loadConfig, type Config } from '../lib/config';
import { buildWorkflowBundle } from '../scripts/build-workflow-bundle';
import { answers, freePort, spawnNode, waitUntil, type Cleanup, type NodeProcess } from './processes';
import type { ProcessGroup } from './proc-stats';
import { startPostgres, type BenchPostgres } from './postgres';
import { existingTemporal, startTemporal, type BenchTemporal } from './temporal';
import type { BenchOptions } from './options';

const TASK_QUEUE = 'cafe-flow-bench';
// Explicit, so the report states what ran rather than what the defaults happened to be.
const DATABASE_POOL_MAX = 10;
const LOG_LEVEL = 'info';

export interface BenchStack {
  dataDir: string;
  /** The product's orders task queue. */
  taskQueue: string;
  /** The config the API and worker processes load (same secrets), for seeding through the services. */
  config: Config;
  db: Db;
  postgres: BenchPostgres;
  temporal: BenchTemporal;
  emulator: { url: string; accessToken: string; webhookSecret: string; process: NodeProcess };
  api: { url: string; process: NodeProcess };
  worker: { process: NodeProcess; temporalMetricsUrl: string };
  baseline: { url: string; process: NodeProcess };
  /** The processes whose CPU and memory the report shows. */
  groups: ProcessGroup[];
  settings: Record<string, unknown>;
}

/**
 * Only what Node needs: the caller's own TEMPORAL_ADDRESS, SENTRY_DSN... must not leak into the
 * stack. BENCH_DATA_DIR marks the processes as this run's, for whoever checks they were stopped.
 */
const baseEnv = (dataDir: string): Record<string, string> => ({
  ...Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((name) => process.env[name]).map((name) => [name, process.env[name]!]),
  ),
  BENCH_DATA_DIR: dataDir,
});

async function startEmulator(cleanup: Cleanup, dataDir: string) {
  const port = await freePort();
  const accessToken = `TEST-bench-${randomBytes(8).toString('hex')}`;
  const webhookSecret = randomBytes(24).toString('hex');
  const process = spawnNode(
    cleanup,
    'mercadopago emulator',
    'scripts/mercadopago-emulator/main.ts',
    {
      ...baseEnv(dataDir),
      MP_EMULATOR_PORT: String(port),
      MP_EMULATOR_ACCESS_TOKEN: accessToken,
      MP_EMULATOR_WEBHOOK_SECRET: webhookSecret,
    },
    path.join(dataDir, 'emulator.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('emulator', answers(`${url}/__emulator/health`), { timeoutMs: 60_000, process });
  return { url, accessToken, webhookSecret, process };
}

/** Worker, API and baseline share these; each gets its own ports on top. */
function appEnv(stack: {
  dataDir: string;
  databaseUrl: string;
  temporalAddress: string;
  apiUrl: string;
  emulator: BenchStack['emulator'];
}) {
  return {
    ...baseEnv(stack.dataDir),
    NODE_ENV: 'production',
    LOG_LEVEL,
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Payloads encrypted as in production (lib/payload-codec.ts), with a key of this run's own.
    TEMPORAL_PAYLOAD_KEYS: `bench-1:${randomBytes(32).toString('base64')}`,
    DATABASE_URL: stack.databaseUrl,
    DATABASE_POOL_MAX: String(DATABASE_POOL_MAX),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    MERCADOPAGO_ACCESS_TOKEN: stack.emulator.accessToken,
    MERCADOPAGO_WEBHOOK_SECRET: stack.emulator.webhookSecret,
    MERCADOPAGO_API_URL: stack.emulator.url,
    PUBLIC_BASE_URL: stack.apiUrl,
    // The load comes from one address; the per-IP limit would measure itself, not the API.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    // Production's hashing (N=2^16, p=2: 64 MiB a hash), so the auth-memory scenario measures it.
    PASSWORD_HASH_COST: '16',
    ACCESS_TOKEN_TTL_SECONDS: '86400',
    HOST: '127.0.0.1',
  };
}

/** Slot counts as the worker itself reports them (Temporal's Prometheus metrics), read while idle. */
async function workerSlots(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const slots: Record<string, number> = {};
  for (const match of text.matchAll(/^temporal_worker_task_slots_available\{[^}]*worker_type="(\w+)"[^}]*\} (\d+)/gm)) {
    slots[match[1]!] = Number(match[2]);
  }
  return slots;
}

/** node --cpu-prof for one process: the profile is written when it exits (the bench stops it gracefully). */
const profiled = (profileDir: string | undefined, name: string): string[] =>
  profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : [];

async function startApplication(
  cleanup: Cleanup,
  dataDir: string,
  env: Record<string, string>,
  apiPort: number,
  profileDir: string | undefined,
) {
  const temporalMetricsPort = await freePort();
  // As production runs it: a prebuilt bundle, so the worker's memory is the worker's, not webpack's.
  const workflowBundle = path.join(dataDir, 'workflow-bundle.js');
  await buildWorkflowBundle(workflowBundle);
  const worker = spawnNode(
    cleanup,
    'worker',
    'workers/main.ts',
    {
      ...env,
      WORKER_METRICS_PORT: String(await freePort()),
      TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
      WORKFLOW_BUNDLE_PATH: workflowBundle,
      BACKUP_DIR: path.join(dataDir, 'backups'),
    },
    path.join(dataDir, 'worker.log'),
    profiled(profileDir, 'worker'),
  );
  const temporalMetricsUrl = `http://127.0.0.1:${temporalMetricsPort}/metrics`;
  // Slow to start on a busy machine (the prebuilt bundle still has to load).
  await waitUntil('worker', async () => worker.tail(400).includes('worker running'), { timeoutMs: 180_000, process: worker });

  const apiEnv = { ...env, PORT: String(apiPort), METRICS_PORT: String(await freePort()) };
  const api = spawnNode(cleanup, 'api', 'api/main.ts', apiEnv, path.join(dataDir, 'api.log'), profiled(profileDir, 'api'));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitUntil('api', answers(`${apiUrl}/ready`), { timeoutMs: 120_000, process: api });

  const baselinePort = await freePort();
  const baselineEnv = { ...env, PORT: String(baselinePort), METRICS_PORT: String(await freePort()) };
  const baseline = spawnNode(cleanup, 'baseline', 'bench/baseline-app.ts', baselineEnv, path.join(dataDir, 'baseline.log'));
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  await waitUntil('baseline', answers(`${baselineUrl}/health`), { timeoutMs: 120_000, process: baseline });
  return {
    worker: { process: worker, temporalMetricsUrl },
    api: { url: apiUrl, process: api },
    baseline: { url: baselineUrl, process: baseline },
  };
}

type Started = Pick<BenchStack, 'temporal' | 'emulator' | 'postgres' | 'db' | 'api' | 'worker' | 'baseline'>;

function processGroups(stack: Started): ProcessGroup[] {
  const single = (name: string, pid: number, scope: string): ProcessGroup => ({ name, scope, pids: () => [pid] });
  return [
    single('api', stack.api.process.pid, 'the API process'),
    single('worker', stack.worker.process.pid, 'the worker process'),
    single('baseline', stack.baseline.process.pid, 'the baseline app process'),
    single('emulator', stack.emulator.process.pid, 'the MercadoPago emulator process'),
    stack.temporal.pid
      ? single('temporal', stack.temporal.pid, 'the Temporal dev server process')
      : { name: 'temporal', scope: 'not measured: a cluster the bench did not start', pids: () => [] },
    stack.postgres.group(stack.db),
    // If the load generator itself runs out of CPU, the figures above measure it, not the stack.
    single('bench', process.pid, 'the bench process: autocannon, the end-to-end driver, the sampler'),
  ];
}

const describeSettings = (temporal: BenchTemporal, postgres: BenchPostgres) => ({
  temporal: { address: temporal.address, version: temporal.version, persistence: temporal.persistence, args: temporal.args },
  api: { processes: 1, databasePoolMax: DATABASE_POOL_MAX, logLevel: LOG_LEVEL, nodeEnv: 'production' },
  postgres: { kind: postgres.kind, version: postgres.version, database: postgres.database },
  node: process.version,
});

const describeWorker = async (temporalMetricsUrl: string) => ({
  processes: 1,
  taskQueue: TASK_QUEUE,
  slotsAvailableAtIdle: await workerSlots(temporalMetricsUrl).catch(() => ({})),
  source: 'workers/worker.ts createWorker defaults, as reported by temporal_worker_task_slots_available',
  databasePoolMax: DATABASE_POOL_MAX,
  logLevel: LOG_LEVEL,
});

/**
 * The stack `npm start` runs, on free ports and a throwaway data directory: Temporal dev server
 * (SQLite), Postgres with a fresh database, the MercadoPago emulator, and the worker, the API and
 * the baseline app each in a process of its own.
 */
export async function startBenchStack(
  cleanup: Cleanup,
  log: (message: string) => void,
  options: Pick<BenchOptions, 'temporalPersistence' | 'temporalAddress'> & { profileDir?: string },
): Promise<BenchStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cafe-flow-bench-'));
  // An embedded Postgres runs as its own OS user when we are root: it must reach its directory.
  await chmod(dataDir, 0o755);
  cleanup.add('data directory', () => rm(dataDir, { recursive: true, force: true }));

  log(
    options.temporalAddress
      ? `using Temporal at ${options.temporalAddress}`
      : `starting the Temporal dev server (${options.temporalPersistence})`,
  );
  const temporal = options.temporalAddress
    ? await existingTemporal(options.temporalAddress)
    : await startTemporal(cleanup, dataDir, options.temporalPersistence);
  log('preparing Postgres');
  const postgres = await startPostgres(cleanup, dataDir, process.env.DATABASE_URL);
  const db = createDb({ url: postgres.databaseUrl, poolMax: 4, applicationName: 'cafe-flow-bench' });
  cleanup.add('bench database pool', () => db.destroy());
  await migrateLatest(db);
  log(`data directory ${dataDir}, database ${postgres.database} (${postgres.kind})`);
  log('starting the MercadoPago emulator');
  const emulator = await startEmulator(cleanup, dataDir);
  const apiPort = await freePort();
  const env = appEnv({
    dataDir,
    databaseUrl: postgres.databaseUrl,
    temporalAddress: temporal.address,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    emulator,
  });
  log('starting the worker, the API and the baseline app');
  const app = await startApplication(cleanup, dataDir, env, apiPort, options.profileDir);

  const groups = processGroups({ temporal, emulator, postgres, db, ...app });
  const settings = { ...describeSettings(temporal, postgres), worker: await describeWorker(app.worker.temporalMetricsUrl) };
  return { dataDir, taskQueue: TASK_QUEUE, config: loadConfig(env), db, postgres, temporal, emulator, ...app, groups, settings };
}
