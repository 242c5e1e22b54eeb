import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/knex';
import type { Logger } from './logger';
import { ORDER_STATUSES, TERMINAL_STATUSES, type OrderStatus } from '../workflows/orders/contracts';

/**
 * Gauges read from Postgres and from the knex pool when Prometheus scrapes, rather than kept up
 * to date by the code paths that change them: a count kept in memory drifts as soon as two
 * processes write, and is lost on restart.
 */

export interface DbMetricsOptions {
  registry: Registry;
  db: Db;
  logger: Logger;
  /**
   * How long one read of the order counts serves scrapes. Every API replica and worker is
   * scraped every 15 s; this keeps them to one query each per interval, however many scrapers.
   */
  cacheMs?: number;
  /** A slow count must not hold the scrape (10 s timeout) nor a connection for long. */
  queryTimeoutMs?: number;
}

interface OrderStats {
  counts: Map<string, number>;
  oldestSeconds: Map<string, number>;
}

const WAITING_STATUSES = ORDER_STATUSES.filter((status) => !TERMINAL_STATUSES.includes(status));

/**
 * One grouped scan of `orders`. `updated_at` is bumped by every event the workflow records, so
 * `now() - min(updated_at)` is how long the least recently touched order of a status has waited.
 * Ages use the database clock, so a skewed host clock cannot fake a backlog.
 */
async function readOrderStats(db: Db, timeoutMs: number): Promise<OrderStats> {
  const rows = (await db('orders')
    .select('status')
    .count({ count: '*' })
    .select(db.raw('extract(epoch from now() - min(updated_at))::float8 as oldest_seconds'))
    .groupBy('status')
    .timeout(timeoutMs, { cancel: true })) as unknown as { status: string; count: number; oldestSeconds: number }[];
  return {
    counts: new Map(rows.map((row) => [row.status, Number(row.count)])),
    oldestSeconds: new Map(rows.map((row) => [row.status, Math.max(0, Number(row.oldestSeconds))])),
  };
}

/** Concurrent scrapes share one query, and its result for `cacheMs`. */
function cachedOrderStats(db: Db, cacheMs: number, timeoutMs: number) {
  let cached: { at: number; stats: Promise<OrderStats> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at >= cacheMs) {
      const stats = readOrderStats(db, timeoutMs);
      cached = { at: Date.now(), stats };
      // A failed read is not cached: the next scrape tries again.
      stats.catch(() => {
        if (cached?.stats === stats) cached = undefined;
      });
    }
    return cached.stats;
  };
}

/** The tarn pool behind knex; undefined once the pool is destroyed. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

const poolOf = (db: Db) => (db.client as { pool?: TarnPool }).pool;

/**
 * Registers `orders_by_status{status}`, `orders_oldest_pending_age_seconds{status}` and
 * `db_pool_connections{state}` on `registry`. When Postgres cannot answer, the order gauges are
 * left out of that scrape instead of failing it: a failed scrape would read as the process
 * being down, and DatabaseDown already covers the database.
 */
export function registerDbMetrics({ registry, db, logger, cacheMs = 10_000, queryTimeoutMs = 2_000 }: DbMetricsOptions) {
  const orderStats = cachedOrderStats(db, cacheMs, queryTimeoutMs);
  const registers = [registry];

  const setOrderGauges = async (apply: (stats: OrderStats) => void, reset: () => void) => {
    try {
      apply(await orderStats());
    } catch (error) {
      reset();
      logger.warn({ err: error }, 'order gauges not read from the database');
    }
  };

  new Gauge({
    name: 'orders_by_status',
    help: 'Orders currently in each status (read from Postgres at scrape time)',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      await setOrderGauges(
        (stats) => ORDER_STATUSES.forEach((status) => this.set({ status }, stats.counts.get(status) ?? 0)),
        () => this.reset(),
      );
    },
  });

  new Gauge({
    name: 'orders_oldest_pending_age_seconds',
    help: 'Seconds the longest-waiting order of each non-final status has been in it (0 when none)',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      await setOrderGauges(
        (stats) => WAITING_STATUSES.forEach((status: OrderStatus) => this.set({ status }, stats.oldestSeconds.get(status) ?? 0)),
        () => this.reset(),
      );
    },
  });

  new Gauge({
    name: 'db_pool_connections',
    help: 'Connections of the knex pool: used, free, and pending (queries waiting for one)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = poolOf(db);
      this.set({ state: 'used' }, pool?.numUsed() ?? 0);
      this.set({ state: 'free' }, pool?.numFree() ?? 0);
      this.set({ state: 'pending' }, pool?.numPendingAcquires() ?? 0);
    },
  });
}
