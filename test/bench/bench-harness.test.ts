import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import Knex from 'knex';
import { withDatabase } from '../../db/knex';

const root = path.resolve(__dirname, '..', '..');

interface BenchRun {
  code: number | null;
  output: string;
}

/** The bench as `npm run bench` runs it, in a process of its own; `onOutput` may interrupt it. */
function runBench(args: string[], onOutput?: (output: string, stop: () => void) => void): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'bench/run.ts', ...args], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let interrupted = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!interrupted) {
        onOutput?.(output, () => {
          interrupted = true;
          child.kill('SIGINT');
        });
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // Bounded: a bench that hangs fails the test rather than the suite's patience.
    const guard = setTimeout(() => child.kill('SIGKILL'), 420_000);
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    });
  });
}

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** Any process still marked as the run's: its data directory or database on the command line, or its marker in the environment. */
function leftovers(dataDir: string, database: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .map((pid) => ({ pid, cmdline: read(`/proc/${pid}/cmdline`).split('\0').join(' '), environ: read(`/proc/${pid}/environ`) }))
    .filter(
      ({ cmdline, environ }) =>
        cmdline.includes(dataDir) || cmdline.includes(database) || environ.split('\0').includes(`BENCH_DATA_DIR=${dataDir}`),
    )
    .map(({ pid, cmdline }) => `${pid}: ${cmdline}`);
}

async function databaseExists(kind: string, database: string): Promise<boolean> {
  if (kind === 'embedded') return false;
  const server = kind === 'DATABASE_URL' ? process.env.DATABASE_URL! : 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = Knex({ client: 'pg', connection: withDatabase(server, 'postgres'), pool: { min: 0, max: 1 } });
  try {
    return (await admin.raw('select 1 from pg_database where datname = ?', [database])).rows.length > 0;
  } finally {
    await admin.destroy();
  }
}

/** Every leaf under `value` is a finite number (arrays and objects walked). */
function expectNumericFigures(value: unknown, where: string): void {
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) expectNumericFigures(inner, `${where}.${key}`);
    return;
  }
  expect(Number.isFinite(value), `${where} = ${JSON.stringify(value)}`).to.equal(true);
}

const latencyKeys = ['count', 'mean', 'p50', 'p95', 'p99', 'max'];
const loadFigures = (run: any) => ({
  throughput: run.throughput,
  responses: run.responses,
  latencyMs: run.latencyMs,
  errors: run.errors,
  timeouts: run.timeouts,
  non2xx: run.non2xx,
});

describe('bench harness', () => {
  let outDir: string;

  before(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'cafe-flow-bench-test-'));
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  it('when the bench runs with --quick, then its JSON holds every scenario with numeric figures and nothing it started outlives it', async function () {
    this.timeout(480_000);
    const run = await runBench(['--quick', '--out', outDir]);
    expect(run.code, run.output).to.equal(0);
    const [file] = await readdir(outDir);
    const report = JSON.parse(await readFile(path.join(outDir, file!), 'utf8'));
    const { ceiling, placement, endToEnd, webhooks, auth, resources } = report.scenarios;

    for (const run of [ceiling.bare, ceiling.updateWithStartTwoLocal]) {
      expect(run.completed, run.workflow).to.be.greaterThan(0);
      expectNumericFigures([run.perSecond, run.latencyMs], `ceiling ${run.workflow}`);
    }

    const expected = [...report.options.rates.map((rate: number) => ['rate', rate]), ['saturation', null]];
    for (const target of ['temporal', 'baseline']) {
      const runs = placement.runs.filter((r: any) => r.target === target).map((r: any) => [r.mode, r.offeredRate]);
      expect(runs, target).to.deep.equal(expected);
    }
    for (const r of placement.runs) {
      expect(Object.keys(r.latencyMs)).to.deep.equal(latencyKeys);
      expectNumericFigures(loadFigures(r), `placement ${r.target} ${r.mode} ${r.offeredRate}`);
      expectNumericFigures(r.resources.cpuCores, 'placement cpu');
      expect(r.responses, `${r.target} ${r.offeredRate}`).to.be.greaterThan(0);
    }
    expect(placement.durabilityPrice).to.have.length(expected.length);
    expectNumericFigures([placement.criticalPath.historyEvents, placement.criticalPath.workflowTasks], 'critical path');
    expect(placement.criticalPath.activities).to.include('recordOrderPlaced');
    expectNumericFigures(
      placement.durabilityPrice.map((p: any) => [p.p50Ratio, p.p95Ratio, p.throughputRatio]),
      'price',
    );

    expect(endToEnd.orders).to.equal(report.options.orders);
    expect(endToEnd.completed, JSON.stringify(endToEnd.failures)).to.be.greaterThan(0);
    expectNumericFigures(
      [endToEnd.completedPerSecond, endToEnd.placedToPaidMs, endToEnd.paymentToPaidMs, endToEnd.staffActionMs],
      'endToEnd',
    );
    // Counted from the completed orders' real histories: the order workflow is the only execution.
    expect(endToEnd.engine.orders).to.equal(endToEnd.completed);
    expect(endToEnd.engine.workflowTasks).to.be.within(1, 6);
    expect(endToEnd.engine.activityTasks).to.equal(0);
    expect(endToEnd.engine.executionsByType).to.deep.equal({ processOrder: endToEnd.completed });

    expect(auth.requests).to.be.greaterThan(0);
    expectNumericFigures([auth.apiPeakRssMiB, auth.apiContainerLimitMiB], 'auth memory');

    expectNumericFigures([loadFigures(webhooks.atRate), loadFigures(webhooks.atSaturation)], 'webhooks');
    expect(webhooks.atRate.responses).to.be.greaterThan(0);
    expect(webhooks.notificationsRecorded).to.be.greaterThan(0);
    expectNumericFigures([webhooks.notificationsProcessed, webhooks.processedPerSecond], 'webhooks processing');

    expect(Object.keys(resources.processes)).to.include.members(['api', 'worker', 'temporal', 'postgres']);
    for (const name of ['api', 'worker', 'temporal']) {
      expect(resources.processes[name].peakProcessHwmMiB, name).to.be.greaterThan(0);
    }
    expectNumericFigures(resources.cpuCoresByScenario, 'cpu by scenario');
    expect(Object.keys(resources.cpuCoresByScenario)).to.deep.equal(['ceiling', 'placement', 'endToEnd', 'webhooks', 'auth']);

    expect(report.targets.map((t: any) => t.status)).to.satisfy((all: string[]) =>
      all.every((status) => ['pass', 'fail', 'not_measured'].includes(status)),
    );
    expect(report.settings.worker.slotsAvailableAtIdle).to.have.property('ActivityWorker').that.is.a('number');
    expect(report.settings.temporal.args).to.include('--db-filename');

    expect(leftovers(report.dataDir, report.database)).to.deep.equal([]);
    expect(existsSync(report.dataDir), report.dataDir).to.equal(false);
    expect(await databaseExists(report.settings.postgres.kind, report.database)).to.equal(false);
  });

  it('when the bench is interrupted with SIGINT mid-run, then it stops every process it started and removes its data', async function () {
    this.timeout(300_000);
    const interruptedOut = path.join(outDir, 'interrupted');
    let started: RegExpExecArray | null = null;
    const run = await runBench(['--quick', '--out', interruptedOut], (output, stop) => {
      started = /data directory (\S+), database (\S+) \(([^)]+)\)/.exec(output);
      if (started && output.includes('placement: temporal')) stop();
    });
    expect(started, run.output).to.not.equal(null);
    const [, dataDir, database, kind] = started!;

    expect(run.code, run.output).to.equal(130);
    expect(leftovers(dataDir!, database!)).to.deep.equal([]);
    expect(existsSync(dataDir!)).to.equal(false);
    expect(await databaseExists(kind!, database!)).to.equal(false);
    expect(existsSync(interruptedOut)).to.equal(false);
  });
});
