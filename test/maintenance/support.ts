import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBackupActivities, type BackupSettings } from '../../activities/maintenance/backup-activities';
import { createMercadoPagoClient } from '../../activities/payments/mercadopago-client';
import type { Db } from '../../db/knex';
import { countRows } from '../../db/repositories/backups';
import { createLogger } from '../../lib/logger';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { DRILL_TABLES } from '../../workflows/maintenance/contracts';
import { createActivities } from '../../workers/worker';
import { testConfig } from '../support/env';

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by `removeTempDirs()`. */
export async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `cafe-flow-${name}-`));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

export function backupSettings(dir: string, overrides: Partial<BackupSettings> = {}): BackupSettings {
  const config = testConfig({ BACKUP_DIR: dir });
  return { ...config.backups, databaseUrl: config.database.url!, ...overrides };
}

/** One café with a product, a customer and an order with two lines and two events. */
export async function seedCafe(db: Db): Promise<void> {
  await db('users').insert({ email: `owner-${randomUUID()}@example.test`, name: 'Owner', passwordHash: 'x' });
  const [customer] = await db('users')
    .insert({ email: `customer-${randomUUID()}@example.test`, name: 'Customer', passwordHash: 'x' })
    .returning('id');
  const [business] = await db('businesses').insert({ name: 'Café Backup', currency: 'ARS', timeZone: 'UTC' }).returning('id');
  const [product] = await db('products').insert({ businessId: business.id, name: 'Cortado', priceMinor: 250_00 }).returning('id');
  const orderId = randomUUID();
  await db('orders').insert({
    id: orderId,
    businessId: business.id,
    customerId: customer.id,
    idempotencyKey: randomUUID(),
    requestHash: 'hash',
    workflowId: `order:${business.id}:${orderId}`,
    status: 'paid',
    currency: 'ARS',
    totalMinor: 750_00,
    paymentDeadline: new Date(),
  });
  await db('orderItems').insert([
    { orderId, line: 1, productId: product.id, name: 'Cortado', unitPriceMinor: 250_00, quantity: 1, lineTotalMinor: 250_00 },
    { orderId, line: 2, productId: product.id, name: 'Cortado', unitPriceMinor: 250_00, quantity: 2, lineTotalMinor: 500_00 },
  ]);
  await db('orderEvents').insert([
    { orderId, seq: 1, type: 'placed', toStatus: 'pending_payment', occurredAt: new Date() },
    { orderId, seq: 2, type: 'payment_approved', fromStatus: 'pending_payment', toStatus: 'paid', occurredAt: new Date() },
  ]);
}

export const mainTableCounts = (db: Db) => countRows(db, DRILL_TABLES);

/** Every activity the worker registers, with backups configured for `settings`. */
export function workerActivities(deps: { db: Db; metrics: Metrics; temporal: Client; settings: BackupSettings }) {
  return createActivities({
    db: deps.db,
    logger: createLogger({ level: 'silent', name: 'test-backup' }),
    metrics: deps.metrics,
    temporal: deps.temporal,
    mercadopago: createMercadoPagoClient({ accessToken: 'TEST-unused', apiUrl: 'http://127.0.0.1:9', timeoutMs: 1000 }),
    publicBaseUrl: 'http://localhost',
    backups: deps.settings,
  });
}

/** The backup activities alone, run one at a time in a mock activity context. */
export function backupActivities(db: Db, settings: BackupSettings | undefined) {
  const metrics = createMetrics({ defaultMetrics: false });
  const activities = createBackupActivities({
    db,
    logger: createLogger({ level: 'silent', name: 'test-backup' }),
    metrics,
    settings,
  });
  const silent = {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const run = <R>(fn: () => Promise<R>) => new MockActivityEnvironment(undefined, { logger: silent }).run(fn) as Promise<R>;
  return { activities, metrics, run };
}

/**
 * A directory with a pg_dump and pg_restore reporting `version`. pg_dump records its arguments
 * environment and passfile in `<dir>/calls.log`, writes 64 KiB to its --file and then kills itself with
 * SIGKILL, as a dump cut off by the OOM killer would.
 */
export async function fakePgTools(version: number): Promise<{ dir: string; log: string }> {
  const dir = await tempDir('fake-pg');
  const log = path.join(dir, 'calls.log');
  const script = (tool: string, body: string) => `#!/bin/sh
if [ "$1" = "--version" ]; then echo "${tool} (PostgreSQL) ${version}.99"; exit 0; fi
${body}
`;
  const dump = script(
    'pg_dump',
    `echo "argv: $*" >> '${log}'
/usr/bin/env >> '${log}'
if [ -n "$PGPASSFILE" ]; then echo "passfile: $(/bin/cat "$PGPASSFILE")" >> '${log}'; fi
for arg in "$@"; do case "$arg" in --file=*) out="\${arg#--file=}";; esac; done
/bin/dd if=/dev/zero of="$out" bs=1024 count=64 2>/dev/null
kill -9 $$`,
  );
  await writeFile(path.join(dir, 'pg_dump'), dump);
  await writeFile(path.join(dir, 'pg_restore'), script('pg_restore', 'exit 1'));
  await chmod(path.join(dir, 'pg_dump'), 0o755);
  await chmod(path.join(dir, 'pg_restore'), 0o755);
  return { dir, log };
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of scripts/*.ts as `npm run` would (through tsx), against the run's database. */
export function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join('scripts', script), ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: testConfig().database.url, ...env },
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
