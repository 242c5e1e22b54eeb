import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { BackupFailure } from '../../workflows/maintenance/contracts';

const run = promisify(execFile);

export interface PgTools {
  pgDump: string;
  pgRestore: string;
  major: number;
}

export interface PgToolSearch {
  /** The server's major version (`show server_version_num` / 10000). */
  major: number;
  /** A directory holding pg_dump and pg_restore, searched first. */
  configuredDir?: string;
  /** Where Debian/Ubuntu install each major version side by side. */
  systemRoot?: string;
}

/**
 * pg_dump refuses a newer server, and an archive from a newer pg_dump can carry settings an older
 * server rejects on restore (pg_dump 17 writes `SET transaction_timeout`), so only the exact
 * major version is accepted. Searched in order: the configured directory,
 * `<systemRoot>/<major>/bin`, then whatever `pg_dump` is first on PATH.
 */
export async function findPgTools({ major, configuredDir, systemRoot = '/usr/lib/postgresql' }: PgToolSearch): Promise<PgTools> {
  const dirs = [configuredDir, path.join(systemRoot, String(major), 'bin'), await dirOnPath('pg_dump')];
  const seen: string[] = [];
  for (const dir of dirs) {
    if (!dir) continue;
    const pgDump = path.join(dir, 'pg_dump');
    const pgRestore = path.join(dir, 'pg_restore');
    const [dumpMajor, restoreMajor] = await Promise.all([toolMajor(pgDump), toolMajor(pgRestore)]);
    if (dumpMajor === major && restoreMajor === major) return { pgDump, pgRestore, major };
    seen.push(`${pgDump} (${dumpMajor === undefined ? 'missing' : `version ${dumpMajor}`})`);
  }
  throw ApplicationFailure.create({
    type: BackupFailure.PgToolsNotFound,
    nonRetryable: true,
    message:
      `pg_dump and pg_restore version ${major} are needed for this PostgreSQL ${major} server; looked at ${seen.join(', ')}. ` +
      `Install postgresql-client-${major} or point the backup settings' pgBinDir at its bin directory.`,
    details: [{ major, looked: seen }],
  });
}

async function toolMajor(file: string): Promise<number | undefined> {
  try {
    const { stdout } = await run(file, ['--version'], { env: {}, timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function dirOnPath(command: string): Promise<string | undefined> {
  try {
    // The shell inherits this process's PATH; the tools themselves then run with a minimal env.
    const { stdout } = await run('sh', ['-c', `command -v ${command}`], { timeout: 10_000 });
    const found = stdout.trim();
    return found.startsWith('/') ? path.dirname(found) : undefined;
  } catch {
    return undefined;
  }
}

/** The parts of a postgres:// URL the tools take from the environment. */
export function connectionParts(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost'),
    port: parsed.port || '5432',
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
    sslmode: parsed.searchParams.get('sslmode') ?? undefined,
  };
}

export type PgEnv = Record<string, string>;

const passfileField = (value: string) => value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');

/**
 * Runs `fn` with an environment for pg_dump/pg_restore connecting to `url`. The password goes in a
 * 0600 passfile deleted afterwards, never on a command line (visible in `ps`) nor in a variable
 * the child could hand on. The environment is built from scratch, so no stray PG* variable of the
 * worker's own leaks into the tools.
 */
export async function withPgEnv<T>(url: string, fn: (env: PgEnv) => Promise<T>): Promise<T> {
  const parts = connectionParts(url);
  const env: PgEnv = {
    PGHOST: parts.host,
    PGPORT: parts.port,
    PGUSER: parts.user,
    PGDATABASE: parts.database,
    PGAPPNAME: 'cafe-flow-backup',
    PGCONNECT_TIMEOUT: '15',
  };
  if (parts.sslmode) env.PGSSLMODE = parts.sslmode;
  if (!parts.password) return fn(env);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cafe-flow-pgpass-'));
  try {
    const passfile = path.join(dir, 'pgpass');
    await writeFile(passfile, `*:*:*:${passfileField(parts.user)}:${passfileField(parts.password)}\n`, { mode: 0o600 });
    return await fn({ ...env, PGPASSFILE: passfile });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export class PgToolError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    super(
      `${path.basename(tool)} ${signal ? `was killed by ${signal}` : `exited with ${exitCode}`}: ${stderr.trim() || '(no output)'}`,
    );
    this.name = 'PgToolError';
  }
}

export interface RunOptions {
  env: PgEnv;
  signal?: AbortSignal;
  /** Called every `tickMs` while the tool runs: where activities heartbeat. */
  onTick?: () => void | Promise<void>;
  tickMs?: number;
  captureStdout?: boolean;
}

const STDERR_LIMIT = 16_384;

/** Runs a tool to completion; rejects with a PgToolError carrying the end of its stderr. */
export function runPgTool(file: string, args: string[], options: RunOptions): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env, stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    const stdout: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_LIMIT);
    });
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    const kill = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', kill, { once: true });
    const timer = options.onTick ? setInterval(() => void options.onTick?.(), options.tickMs ?? 5_000) : undefined;
    const done = () => {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', kill);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('close', (code, signal) => {
      done();
      if (code === 0) resolve({ stdout: Buffer.concat(stdout).toString('utf8') });
      else reject(new PgToolError(file, code, signal, stderr));
    });
  });
}
