/**
 * `npm run bench`: starts its own stack (see stack.ts), seeds a café, and measures order placement
 * against a baseline without Temporal, orders end to end, webhook ingestion, and the processes'
 * CPU and memory. Prints a table and writes bench/results/<timestamp>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../lib/logger';
import { seedDemo } from '../scripts/stack/seed';
import { measured, type BenchContext } from './context';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { renderProfiles, summarizeDir } from './cpu-profile';
import { Cleanup } from './processes';
import { Sampler } from './proc-stats';
import { evaluateTargets, render, type Scenarios } from './report';
import { authMemoryScenario } from './scenarios/auth-memory';
import { ceilingScenario } from './scenarios/ceiling';
import { endToEndScenario } from './scenarios/end-to-end';
import { placementScenario } from './scenarios/placement';
import { webhookScenario } from './scenarios/webhooks';
import { startBenchStack } from './stack';

const log = (message: string) => console.log(`• ${message}`);

const machine = () => ({
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
});

async function runScenarios(ctx: BenchContext): Promise<Scenarios> {
  const cpuCoresByScenario: Record<string, Record<string, number>> = {};
  const scenario = async <T>(name: string, work: () => Promise<T>) => {
    const { result, resources } = await measured(ctx, work);
    cpuCoresByScenario[name] = resources.cpuCores;
    return result;
  };
  // The engine's own ceiling first, on the idle stack: the figures below are read against it.
  const ceiling = await scenario('ceiling', () => ceilingScenario(ctx));
  const placement = await scenario('placement', () => placementScenario(ctx));
  const endToEnd = await scenario('endToEnd', () => endToEndScenario(ctx));
  const webhooks = await scenario('webhooks', () => webhookScenario(ctx));
  const auth = await scenario('auth', () => authMemoryScenario(ctx));
  await ctx.sampler.stop();
  return { ceiling, placement, endToEnd, webhooks, auth, resources: { processes: ctx.sampler.summary(), cpuCoresByScenario } };
}

function processList(sampler: Sampler) {
  const summary = sampler.summary();
  return Object.fromEntries(Object.entries(summary).map(([name, group]) => [name, group.pids]));
}

async function bench(options: BenchOptions, cleanup: Cleanup) {
  const startedAt = new Date();
  const machineAtStart = machine();
  const profileDir = options.cpuProfile
    ? path.join(options.outDir, `profiles-${startedAt.toISOString().replace(/[:.]/g, '-')}`)
    : undefined;
  const stack = await startBenchStack(cleanup, log, { ...options, profileDir });
  const sampler = new Sampler(stack.groups);
  await sampler.start();
  cleanup.add('sampler', () => sampler.stop());
  log('seeding the demo café');
  const seed = await seedDemo({
    db: stack.db,
    config: stack.config,
    logger: createLogger({ level: 'warn', name: 'bench-seed' }),
  });
  const ctx: BenchContext = { stack, sampler, seed, options, runId: randomBytes(4).toString('hex'), log };
  const scenarios = await runScenarios(ctx);
  const targets = evaluateTargets(scenarios);
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    options,
    machine: { ...machineAtStart, loadAverageAtEnd: machine().loadAverage },
    settings: stack.settings,
    scenarios,
    targets,
    // What the bench started, for whoever checks that nothing outlived it.
    processes: processList(sampler),
    dataDir: stack.dataDir,
    database: stack.postgres.database,
  };
  await mkdir(options.outDir, { recursive: true });
  const file = path.join(options.outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${render(scenarios, targets)}\n`);
  if (machineAtStart.loadAverage[0]! > machineAtStart.cpus * 0.5) {
    console.log(
      `note: load average was ${machineAtStart.loadAverage[0]} on ${machineAtStart.cpus} cores at the start: figures are noisy`,
    );
  }
  return { file, profileDir };
}

/** After the stack stopped (node writes a profile at exit): where the worker's and API's CPU went. */
async function reportProfiles(profileDir: string) {
  const root = path.resolve(__dirname, '..');
  for (const name of ['worker', 'api']) {
    const summaries = await summarizeDir(path.join(profileDir, name), root);
    console.log(`\n${summaries.length ? renderProfiles(name, summaries) : `no CPU profile was written by the ${name}`}`);
    await writeFile(path.join(profileDir, `${name}-summary.json`), `${JSON.stringify(summaries, null, 2)}\n`);
  }
  console.log(`profiles: ${path.relative(process.cwd(), profileDir)} (open a .cpuprofile in Chrome DevTools)`);
}

async function main() {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\nusage: ${USAGE}`);
    process.exit(2);
  }
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  try {
    const { file, profileDir } = await bench(options, cleanup);
    log('stopping the stack');
    await cleanup.run();
    if (profileDir) await reportProfiles(profileDir);
    console.log(`results: ${path.relative(process.cwd(), file)}`);
    process.exit(0);
  } catch (error) {
    if (!cleanup.interrupted) {
      console.error(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    await cleanup.run();
    process.exit(cleanup.interrupted ? 130 : 1);
  }
}

void main();
