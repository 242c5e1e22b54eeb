import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .flatMap((line) => {
      const match = SAMPLE.exec(line);
      if (!match) return [];
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map((m) => [m[1], m[2]]));
      return [{ name: match[1] as string, labels, value: Number(match[3]) }];
    });
}

export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** The value of the one sample named `name` whose labels include `labels`; 0 when absent. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const repoRoot = path.resolve(__dirname, '..', '..');

export interface RunningProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves when a line of output matches, or rejects when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A long-running child process (an API or worker main, Prometheus) whose output is kept for
 * assertions and for failure messages. `stop` sends SIGTERM to that pid only and waits for it.
 */
export function startProcess(command: string, args: string[], env: Record<string, string | undefined>): RunningProcess {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    child,
    output,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.find((l) => pattern.test(l));
          if (line) finish(() => resolve(line));
        };
        const finish = (then: () => void) => {
          listeners.delete(check);
          clearTimeout(timer);
          then();
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${command}: no line matching ${pattern} in ${timeoutMs} ms:\n${output.slice(-30).join('\n')}`)),
            ),
          timeoutMs,
        );
        listeners.add(check);
        exited.then(() =>
          finish(() => reject(new Error(`${command} exited (${child.exitCode}):\n${output.slice(-30).join('\n')}`))),
        );
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** Runs one of the project's TypeScript entry points the way `npm run api` / `npm run worker` do. */
export function startMain(script: string, env: Record<string, string>): RunningProcess {
  return startProcess(process.execPath, ['-r', 'tsx/cjs', script], { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
}

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
