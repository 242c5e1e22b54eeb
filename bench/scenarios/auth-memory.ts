import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_HASH_COST, hashPassword, scryptParams } from '../../api/auth/passwords';
import { insertUser } from '../../db/repositories/users';
import { call, type BenchContext } from '../context';
import { memoryOf } from '../proc-stats';
import { round } from '../stats';

/**
 * Password hashing is the API's largest allocation (scrypt's 64 MiB per hash). This fires a burst
 * of registrations, then a burst of logins of as many other accounts, each `CONCURRENCY` at once
 * from one client (distinct accounts, so the per-(account, IP) login limit plays no part), and reports the API process's peak resident memory beside the memory limit its
 * production container runs under. The bounded hasher should keep the peak well under it,
 * answering what does not fit in time with 503 BUSY (counted in `statusCodes`).
 */
const CONCURRENCY = 32;
const COMPOSE_FILE = path.join(__dirname, '..', '..', 'docker-compose.production.yml');
// Often enough to catch a peak that lasts one hash (tens of milliseconds on a fast core).
const SAMPLE_EVERY_MS = 20;

export interface AuthMemoryReport {
  concurrency: number;
  requests: number;
  statusCodes: Record<string, number>;
  apiPeakRssMiB: number;
  /** `deploy.resources.limits.memory` of the `api` service in docker-compose.production.yml. */
  apiContainerLimitMiB: number;
}

export async function authMemoryScenario(ctx: BenchContext): Promise<AuthMemoryReport> {
  const pids = await apiPids(ctx);
  const peak = new PeakRss(pids);
  const url = ctx.stack.api.url;
  const accounts = Array.from({ length: CONCURRENCY }, (_, i) => ({
    email: `bench-auth-${ctx.runId}-${i}-${randomUUID().slice(0, 8)}@example.test`,
    password: `bench-password-${randomUUID()}`,
    name: `Bench ${i}`,
  }));
  const statuses: number[] = [];
  const burst = (requests: (() => Promise<{ status: number }>)[]) =>
    Promise.all(
      requests.map((request) =>
        request().then(
          (res) => res.status,
          () => 0,
        ),
      ),
    );

  // Accounts to log in, written straight to the database (one hash shared by all): made through
  // the API they would take the burst's own hashing budget before it starts.
  const password = `bench-password-${randomUUID()}`;
  const passwordHash = await hashPassword(password, scryptParams(DEFAULT_HASH_COST));
  const existing = await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, i) =>
      insertUser(ctx.stack.db, {
        email: `bench-login-${ctx.runId}-${i}-${randomUUID().slice(0, 8)}@example.test`,
        name: `Bench ${i}`,
        passwordHash,
      }),
    ),
  );

  peak.start();
  try {
    ctx.log(`auth memory: ${CONCURRENCY} registrations at once`);
    statuses.push(
      ...(await burst(accounts.map((body) => () => call('POST', `${url}/v1/auth/register`, { body, timeoutMs: 120_000 })))),
    );
    ctx.log(`auth memory: ${CONCURRENCY} logins of distinct accounts at once`);
    statuses.push(
      ...(await burst(
        existing.map(
          ({ email }) =>
            () =>
              call('POST', `${url}/v1/auth/login`, { body: { email, password }, timeoutMs: 120_000 }),
        ),
      )),
    );
  } finally {
    peak.stop();
  }

  const statusCodes: Record<string, number> = {};
  for (const status of statuses) {
    const key = status === 0 ? 'no answer' : String(status);
    statusCodes[key] = (statusCodes[key] ?? 0) + 1;
  }
  return {
    concurrency: CONCURRENCY,
    requests: statuses.length,
    statusCodes,
    apiPeakRssMiB: peak.peakMiB(),
    apiContainerLimitMiB: apiContainerLimitMiB(),
  };
}

async function apiPids(ctx: BenchContext): Promise<number[]> {
  const group = ctx.stack.groups.find((candidate) => candidate.name === 'api');
  const pids = group ? await group.pids() : [ctx.stack.api.process.pid];
  return pids.length > 0 ? pids : [ctx.stack.api.process.pid];
}

/**
 * Resident memory of the API process through the burst: VmRSS sampled often, and the kernel's own
 * high-water mark (VmHWM) when it rose during the burst, since that one misses no peak at all.
 */
class PeakRss {
  private timer: NodeJS.Timeout | undefined;
  private sampledKiB = 0;
  private readonly hwmBeforeKiB: number;

  constructor(private readonly pids: number[]) {
    this.hwmBeforeKiB = this.hwmKiB();
  }

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
  }

  peakMiB(): number {
    const hwmAfter = this.hwmKiB();
    const peakKiB = hwmAfter > this.hwmBeforeKiB ? Math.max(hwmAfter, this.sampledKiB) : this.sampledKiB;
    return round(peakKiB / 1024, 1);
  }

  private sample() {
    const total = this.pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
    this.sampledKiB = Math.max(this.sampledKiB, total);
  }

  private hwmKiB(): number {
    return this.pids.reduce((sum, pid) => sum + (memoryOf(pid)?.hwmKiB ?? 0), 0);
  }
}

function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The `api` service's memory limit as Compose writes it (`512m`, `1g`, `1.5G`, bytes). */
export function apiContainerLimitMiB(file = COMPOSE_FILE): number {
  const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as {
    services?: { api?: { deploy?: { resources?: { limits?: { memory?: string | number } } } } };
  };
  const limit = compose.services?.api?.deploy?.resources?.limits?.memory;
  if (limit === undefined) throw new Error(`${path.basename(file)}: the api service has no deploy.resources.limits.memory`);
  return composeMemoryMiB(limit);
}

const UNIT_BYTES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
};

export function composeMemoryMiB(limit: string | number): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(limit).trim());
  const bytesPerUnit = match ? UNIT_BYTES[match[2]!.toLowerCase()] : undefined;
  if (!match || bytesPerUnit === undefined) throw new Error(`not a Compose memory size: ${limit}`);
  return round((Number(match[1]) * bytesPerUnit) / 2 ** 20, 1);
}
