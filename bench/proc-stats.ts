import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { round } from './stats';

/** Linux /proc readings: memory of a process, CPU time of a set of processes over a window. */

export const CLOCK_TICKS = (() => {
  const answer = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
  return Number.isInteger(answer) && answer > 0 ? answer : 100;
})();

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const kib = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);

/**
 * VmHWM (the kernel's own peak of resident memory) and PSS in KiB; undefined once the process is
 * gone. PSS splits shared pages between the processes sharing them, so Postgres backends, which
 * all map the same shared buffers, can be summed; RSS stands in where smaps_rollup is missing.
 */
export function memoryOf(pid: number): { pssKiB: number; hwmKiB: number } | undefined {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  return { pssKiB: rollup ? kib(rollup, 'Pss') : kib(status, 'VmRSS'), hwmKiB: kib(status, 'VmHWM') };
}

/** utime + stime in clock ticks, and the parent pid. The command name may hold spaces, hence the last ')'. */
function statOf(pid: number): { ticks: number; ppid: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

export const isAlive = (pid: number) => statOf(pid) !== undefined;

export const commandLine = (pid: number) => read(`/proc/${pid}/cmdline`)?.split('\0').join(' ').trim() ?? '';

const allPids = () =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);

/** Processes whose command line contains `needle` (e.g. a data directory only one server uses). */
export const pidsWithCommandLine = (needle: string) => allPids().filter((pid) => commandLine(pid).includes(needle));

/** `root` and all its descendants: a Postgres postmaster and its backends. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const ppid = statOf(pid)?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0 && tree.length < 10_000) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface ProcessGroup {
  name: string;
  /** The group's processes now; called on every sample, so backends that come and go are followed. */
  pids(): number[] | Promise<number[]>;
  /** What the group's figures cover, for the report. */
  scope: string;
}

interface Sample {
  at: number;
  ticks: Record<string, number>;
  pssKiB: Record<string, number>;
}

export interface WindowUsage {
  seconds: number;
  /** Cores used on average: 1.0 is one core busy for the whole window. */
  cpuCores: Record<string, number>;
  peakPssMiB: Record<string, number>;
}

const mib = (kib: number) => round(kib / 1024, 1);

/**
 * Polls /proc for each group: CPU ticks summed over its processes (a process first seen after the
 * first sample counts from zero: it was born during the run) and PSS summed.
 */
export class Sampler {
  private readonly samples: Sample[] = [];
  private readonly baseline = new Map<number, number>();
  private readonly lastTicks = new Map<string, Map<number, number>>();
  private readonly hwmKiB = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private first = true;
  private busy: Promise<void> | undefined;

  constructor(
    private readonly groups: ProcessGroup[],
    private readonly intervalMs = 500,
    // A safety bound on memory: a day of samples at the default interval.
    private readonly maxSamples = 200_000,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => {
      this.busy ??= this.sample().finally(() => (this.busy = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    await this.sample();
  }

  /** A fresh sample, to open or close a window precisely. */
  async mark(): Promise<number> {
    await this.busy;
    await this.sample();
    return this.samples.length - 1;
  }

  window(from: number, to: number): WindowUsage {
    const a = this.samples[from]!;
    const b = this.samples[to]!;
    const seconds = (b.at - a.at) / 1000;
    const cpuCores: Record<string, number> = {};
    const peakPssMiB: Record<string, number> = {};
    for (const { name } of this.groups) {
      cpuCores[name] = seconds > 0 ? round(((b.ticks[name] ?? 0) - (a.ticks[name] ?? 0)) / CLOCK_TICKS / seconds, 2) : 0;
      peakPssMiB[name] = mib(Math.max(0, ...this.samples.slice(from, to + 1).map((s) => s.pssKiB[name] ?? 0)));
    }
    return { seconds: round(seconds, 1), cpuCores, peakPssMiB };
  }

  /** The whole run: CPU per group, peak of the summed PSS, and the largest VmHWM of any one process. */
  summary() {
    const whole = this.window(0, this.samples.length - 1);
    return Object.fromEntries(
      this.groups.map(({ name, scope }) => {
        const pids = [...(this.lastTicks.get(name)?.keys() ?? [])];
        const peakProcessHwm = Math.max(0, ...pids.map((pid) => this.hwmKiB.get(pid) ?? 0));
        return [
          name,
          {
            scope,
            pids,
            cpuCoresAverage: whole.cpuCores[name],
            peakPssMiB: whole.peakPssMiB[name],
            peakProcessHwmMiB: mib(peakProcessHwm),
          },
        ];
      }),
    );
  }

  private async sample(): Promise<void> {
    const sample: Sample = { at: Date.now(), ticks: {}, pssKiB: {} };
    for (const group of this.groups) {
      const seen = this.lastTicks.get(group.name) ?? new Map<number, number>();
      this.lastTicks.set(group.name, seen);
      let pss = 0;
      for (const pid of await Promise.resolve(group.pids()).catch(() => [])) {
        const stat = statOf(pid);
        const memory = memoryOf(pid);
        if (!stat || !memory) continue;
        if (!seen.has(pid)) this.baseline.set(pid, this.first ? stat.ticks : 0);
        seen.set(pid, stat.ticks);
        pss += memory.pssKiB;
        this.hwmKiB.set(pid, Math.max(this.hwmKiB.get(pid) ?? 0, memory.hwmKiB));
      }
      // Processes that exited keep their last reading, so a group's total never goes backwards.
      sample.ticks[group.name] = [...seen.entries()].reduce((sum, [pid, ticks]) => sum + ticks - this.baseline.get(pid)!, 0);
      sample.pssKiB[group.name] = pss;
    }
    this.first = false;
    if (this.samples.length < this.maxSamples) this.samples.push(sample);
    else this.samples[this.samples.length - 1] = sample;
  }
}
