import type { Knex } from 'knex';

/**
 * Failed-login counters live in Postgres so every API replica sees the same count.
 * One row per key (`account:<email>` or `ip:<address>`); a window that has passed starts over.
 */
export interface ThrottleState {
  lockedUntil: Date | null;
}

export async function getLock(db: Knex, key: string): Promise<Date | null> {
  const row = await db('login_throttles').where({ key }).first('lockedUntil');
  const until: Date | null = row?.lockedUntil ?? null;
  return until && until > new Date() ? until : null;
}

export async function recordFailure(
  db: Knex,
  key: string,
  options: { maxFailures: number; windowSeconds: number; lockSeconds: number },
): Promise<void> {
  await db.raw(
    `insert into login_throttles (key, failures, window_started_at)
       values (?, 1, now())
     on conflict (key) do update set
       failures = case when login_throttles.window_started_at < now() - make_interval(secs => ?)
                       then 1 else login_throttles.failures + 1 end,
       window_started_at = case when login_throttles.window_started_at < now() - make_interval(secs => ?)
                       then now() else login_throttles.window_started_at end,
       locked_until = case when (case when login_throttles.window_started_at < now() - make_interval(secs => ?)
                       then 1 else login_throttles.failures + 1 end) >= ?
                       then now() + make_interval(secs => ?) else login_throttles.locked_until end`,
    [key, options.windowSeconds, options.windowSeconds, options.windowSeconds, options.maxFailures, options.lockSeconds],
  );
}

export async function clearFailures(db: Knex, key: string): Promise<void> {
  await db('login_throttles').where({ key }).delete();
}
