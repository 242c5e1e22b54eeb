import type { Knex } from 'knex';

/**
 * Login attempt counters, in Postgres so every API replica counts against the same rows.
 * The rules (limits, delays, windows) are the caller's; this module makes applying them atomic.
 */
export interface ThrottleRow {
  key: string;
  /** Attempts counted in the current run: finished failures plus attempts still in flight. */
  failures: number;
  windowStartedAt: Date;
  lastAttemptAt: Date;
  lockedUntil: Date | null;
}

export type ThrottleDecision = { allowed: false; retryAfterSeconds: number } | { allowed: true; rows: ThrottleRow[] };

const DEADLOCK = '40P01';

/**
 * Locks the rows of `keys` (creating missing ones), hands them to `decide` with the database's
 * clock, and writes back the rows it returns, all in one transaction: two replicas checking the
 * same account at once are served one after the other, so neither sees a count without the other.
 * Rows are locked in key order, so transactions over overlapping keys queue instead of deadlocking;
 * the retry covers the interleaving of row creation that Postgres may still call a deadlock.
 */
export async function decideAttempt(
  db: Knex,
  keys: string[],
  decide: (rows: ThrottleRow[], now: Date) => ThrottleDecision,
): Promise<ThrottleDecision> {
  const sorted = [...new Set(keys)].sort();
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const { rows: clock } = await trx.raw<{ rows: { now: Date }[] }>('select now() as now');
        const now = clock[0]!.now;
        await trx('login_throttles')
          .insert(sorted.map((key) => ({ key, failures: 0, windowStartedAt: now, lastAttemptAt: now })))
          .onConflict('key')
          .ignore();
        const rows: ThrottleRow[] = await trx('login_throttles')
          .whereIn('key', sorted)
          .orderBy('key')
          .forUpdate()
          .select('key', 'failures', 'windowStartedAt', 'lastAttemptAt', 'lockedUntil');
        const decision = decide(rows, now);
        if (decision.allowed) {
          for (const row of decision.rows) {
            await trx('login_throttles').where({ key: row.key }).update({
              failures: row.failures,
              windowStartedAt: row.windowStartedAt,
              lastAttemptAt: row.lastAttemptAt,
              lockedUntil: row.lockedUntil,
            });
          }
        }
        return decision;
      });
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= 3) throw error;
    }
  }
}

/**
 * Gives back an attempt that did not fail (it succeeded, or never got to check the password).
 * A lock is lifted only if it is the one this attempt set: a later lock belongs to another attempt.
 */
export async function refundAttempt(db: Knex, key: string, lockSetByAttempt: Date | null): Promise<void> {
  await db('login_throttles')
    .where({ key })
    .update({
      failures: db.raw('greatest(failures - 1, 0)'),
      lockedUntil:
        lockSetByAttempt === null
          ? db.raw('locked_until')
          : db.raw('case when locked_until = ? then null else locked_until end', [lockSetByAttempt]),
    });
}

export async function clearKey(db: Knex, key: string): Promise<void> {
  await db('login_throttles').where({ key }).delete();
}

/** Deletes rows idle for longer than `idleSeconds` and not locked meanwhile; at most `limit` per call. */
export async function pruneIdle(db: Knex, idleSeconds: number, limit = 1000): Promise<number> {
  return db('login_throttles')
    .whereIn(
      'key',
      db('login_throttles')
        .select('key')
        .where('lastAttemptAt', '<', db.raw('now() - make_interval(secs => ?)', [idleSeconds]))
        .andWhere((q) =>
          q.whereNull('lockedUntil').orWhere('lockedUntil', '<', db.raw('now() - make_interval(secs => ?)', [idleSeconds])),
        )
        .limit(limit),
    )
    .delete();
}
