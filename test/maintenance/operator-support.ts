import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeStackFile, type StackFile } from '../../scripts/stack/discover';
import type { ScriptRun } from './support';
import { tempDir } from './support';

/** Variables discovery fills: absent from an operator script's environment, as in a fresh shell. */
const DISCOVERED = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_MAINTENANCE_TASK_QUEUE',
  'DATABASE_URL',
  'SMOKE_BASE_URL',
  'SMOKE_MERCADOPAGO_EMULATOR_URL',
];

/** A stack file as `npm start` writes it, in a directory of the test's own; the pid is this process. */
export async function writeTestStackFile(stack: Omit<StackFile, 'pid' | 'startedAt'> & { pid?: number }): Promise<string> {
  const file = path.join(await tempDir('stack-file'), 'stack.json');
  await writeStackFile(file, { pid: process.pid, startedAt: new Date().toISOString(), ...stack });
  return file;
}

/**
 * Runs scripts/<script> as `npm run` would, with none of the connection variables in its
 * environment: only STACK_FILE says where `npm start` would have written its addresses.
 */
export function runOperatorScript(script: string, args: string[], stackFile: string): Promise<ScriptRun> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    STACK_FILE: stackFile,
  };
  for (const name of DISCOVERED) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join('scripts', script), ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A pid no process has: the stack file of an `npm start` that was killed. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}
