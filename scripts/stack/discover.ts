import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type Config } from '../../lib/config';

/**
 * How the operator scripts (backup, restore, smoke, schedules) find the stack `npm start` runs:
 * `npm start` writes the addresses it chose to STACK_FILE (.data/stack.json) and removes the file
 * on a clean stop; a script fills each variable it was not given from there. Variables that are
 * set always win, so the same scripts work against production unchanged.
 */

export interface StackFile {
  /** The `npm start` process: a file left behind by a killed one is ignored. */
  pid: number;
  startedAt: string;
  temporal: { address: string; namespace: string; taskQueue: string; maintenanceTaskQueue: string };
  databaseUrl: string;
  apiUrl: string;
  /** Only when `npm start` runs the MercadoPago emulator (no real credentials). */
  mercadopagoEmulatorUrl?: string;
}

const repoRoot = path.resolve(__dirname, '..', '..');

export const stackFilePath = (config: Config) => path.resolve(repoRoot, config.operator.stackFile);

export async function writeStackFile(file: string, stack: StackFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // It holds the database password of the local stack: readable by its owner only.
  await writeFile(file, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the file if it still describes the stack of `pid` (a newer `npm start` may own it). */
export async function removeStackFile(file: string, pid: number): Promise<void> {
  const current = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as StackFile,
    () => undefined,
  );
  if (current?.pid === pid) await rm(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Lookup = { stack: StackFile } | { problem: string };

function readStack(file: string): Lookup {
  let stack: StackFile;
  try {
    stack = JSON.parse(readFileSync(file, 'utf8')) as StackFile;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { problem: missing ? `no stack is running here (${file} not found)` : `${file} is unreadable` };
  }
  if (!Number.isInteger(stack.pid) || !isAlive(stack.pid)) {
    return { problem: `the stack in ${file} is gone (npm start, pid ${stack.pid}, is not running)` };
  }
  return { stack };
}

export interface Discovery {
  config: Config;
  /** The running `npm start` stack, when any variable was taken from it. */
  stack?: StackFile;
  /** Why nothing could be discovered, for the error a script prints when it lacks a variable. */
  problem?: string;
}

const isUnset = (env: Record<string, string | undefined>, name: string) => !env[name];

/** The configuration of `env`, with unset connection variables filled from the running stack. */
export function discoverStack(env: Record<string, string | undefined>): Discovery {
  const config = loadConfig(env);
  const temporalUnset = isUnset(env, 'TEMPORAL_ADDRESS');
  const databaseUnset = isUnset(env, 'DATABASE_URL');
  if (!temporalUnset && !databaseUnset) return { config };
  const lookup = readStack(stackFilePath(config));
  if ('problem' in lookup) return { config, problem: lookup.problem };

  const { stack } = lookup;
  const filled: Record<string, string | undefined> = {};
  const fill = (name: string, value: string | undefined) => {
    if (isUnset(env, name)) filled[name] = value;
  };
  if (temporalUnset) {
    fill('TEMPORAL_ADDRESS', stack.temporal.address);
    fill('TEMPORAL_NAMESPACE', stack.temporal.namespace);
    fill('TEMPORAL_TASK_QUEUE', stack.temporal.taskQueue);
    fill('TEMPORAL_MAINTENANCE_TASK_QUEUE', stack.temporal.maintenanceTaskQueue);
    // Only with the stack's own Temporal: a smoke check against another deployment pays elsewhere.
    fill('SMOKE_MERCADOPAGO_EMULATOR_URL', stack.mercadopagoEmulatorUrl);
  }
  if (databaseUnset) fill('DATABASE_URL', stack.databaseUrl);
  return { config: loadConfig({ ...env, ...filled }), stack };
}

/** The line a script prints when it works against the discovered stack. */
export function describeDiscovery(discovery: Discovery): string | undefined {
  const { stack, config } = discovery;
  if (!stack) return undefined;
  return `using the stack of npm start (pid ${stack.pid}): Temporal ${config.temporal.address}, namespace ${config.temporal.namespace}`;
}

/** What to tell an operator who gave neither the variable nor a running stack. */
export function notFound(discovery: Discovery, variables: string[]): string {
  const why = discovery.problem ? `${discovery.problem}; ` : '';
  return `${variables.join(' and ')} not set and ${why}start the stack with npm start or set ${variables.join('/')}`;
}
