import type { Db } from '../../db/knex';
import * as throttles from '../../db/repositories/login-throttles';
import type { ThrottleRow } from '../../db/repositories/login-throttles';
import { AppError } from '../../lib/errors';

/**
 * Login throttling that an attacker cannot turn against the people they target:
 *
 * - Per (account, IP) pair: `loginMaxFailures` failures in a row are free, then each further try
 *   waits `loginDelaySeconds`, doubling with every failure up to `loginLockSeconds`. Guessing from
 *   one address slows to a crawl; the owner signing in from their own address never notices.
 * - Per IP, across accounts: a ceiling (`loginIpMaxFailures` per `loginLockSeconds`) high enough
 *   that a café's Wi-Fi or a carrier's NAT, with many people mistyping, keeps working.
 * - Per account, across IPs: a ceiling (`loginAccountMaxFailures`) against guessing spread over
 *   many addresses. It is a soft lock: the right password together with a refresh token of one of
 *   the account's sessions passes it (and the IP ceiling), so the owner keeps a way in.
 *
 * Each attempt is counted before the password is checked, atomically in Postgres (so a burst
 * spread over replicas cannot slip past a count), and given back if it did not fail. A success
 * clears its own pair only: the IP and account counts keep the other failures they hold.
 */
export interface ThrottleSettings {
  loginMaxFailures: number;
  loginDelaySeconds: number;
  loginLockSeconds: number;
  loginIpMaxFailures: number;
  loginAccountMaxFailures: number;
}

export interface LoginAttempt {
  /** The password was right: the pair starts over, the other counts get this attempt back. */
  succeeded(): Promise<void>;
  /** The password was wrong: the attempt stays counted (and now and then, idle rows are pruned). */
  failed(): Promise<void>;
  /** The password was never checked (busy, an error): every count gets this attempt back. */
  abandoned(): Promise<void>;
}

type Scope = 'pair' | 'ip' | 'account';

// With TRUST_PROXY the address comes from X-Forwarded-For, which a client reaching the app
// directly can fill with kilobytes: more than the throttle table's primary-key index takes.
const clientAddress = (ip: string) => ip.slice(0, 64);
const scopeOf = (key: string) => key.slice(0, key.indexOf(':')) as Scope;
// Failures leave rows behind; pruning the idle ones every so many failures keeps the table small.
const PRUNE_EVERY = 200;

export function createLoginThrottle(deps: { db: Db; settings: ThrottleSettings }) {
  const { db, settings } = deps;
  const window = settings.loginLockSeconds;
  const limits: Record<Scope, number> = {
    pair: settings.loginMaxFailures,
    ip: settings.loginIpMaxFailures,
    account: settings.loginAccountMaxFailures,
  };
  let failuresSincePrune = 0;

  /** How long a key stays locked once its count reaches `failures` (at or past its limit). */
  function lockSeconds(scope: Scope, failures: number): number {
    if (scope !== 'pair') return window;
    const doublings = Math.min(failures - limits.pair, 30);
    return Math.min(window, settings.loginDelaySeconds * 2 ** doublings);
  }

  /**
   * A pair's count lasts while failures keep coming: it starts over only after a quiet window
   * past its last attempt and lock. IP and account counts are per fixed window: a rate.
   */
  function isOver(row: ThrottleRow, now: Date): boolean {
    if (scopeOf(row.key) === 'pair') {
      const quietSince = Math.max(row.lastAttemptAt.getTime(), row.lockedUntil?.getTime() ?? 0);
      return now.getTime() >= quietSince + window * 1000;
    }
    const locked = row.lockedUntil !== null && row.lockedUntil > now;
    return !locked && now.getTime() >= row.windowStartedAt.getTime() + window * 1000;
  }

  function count(rows: ThrottleRow[], now: Date): throttles.ThrottleDecision {
    const current = rows.map((row) =>
      isOver(row, now) ? { ...row, failures: 0, windowStartedAt: now, lockedUntil: null } : row,
    );
    const locks = current.flatMap((row) => (row.lockedUntil && row.lockedUntil > now ? [row.lockedUntil] : []));
    if (locks.length > 0) {
      const until = Math.max(...locks.map((date) => date.getTime()));
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
    }
    return {
      allowed: true,
      rows: current.map((row) => {
        const scope = scopeOf(row.key);
        const failures = row.failures + 1;
        // Locked as the limit is reached, before the outcome is known: attempts racing this one
        // wait. If this one succeeds, the lock goes with it.
        const lockedUntil =
          failures >= limits[scope] ? new Date(now.getTime() + lockSeconds(scope, failures) * 1000) : row.lockedUntil;
        return { ...row, failures, lastAttemptAt: now, lockedUntil };
      }),
    };
  }

  async function pruneNow() {
    failuresSincePrune = 0;
    await throttles.pruneIdle(db, 2 * window);
  }

  return {
    /**
     * Counts a login attempt, or refuses it with 429 TOO_MANY_LOGIN_ATTEMPTS and Retry-After.
     * `trusted`: the client proved a session of this account, so only its pair is counted.
     */
    async begin(input: { email: string; ip: string; trusted: boolean }): Promise<LoginAttempt> {
      const email = input.email.toLowerCase();
      const ip = clientAddress(input.ip);
      const pair = `pair:${ip}|${email}`;
      const keys = input.trusted ? [pair] : [pair, `ip:${ip}`, `account:${email}`];
      const decision = await throttles.decideAttempt(db, keys, count);
      if (!decision.allowed) {
        throw new AppError(429, 'TOO_MANY_LOGIN_ATTEMPTS', 'Too many failed logins; try again later', undefined, {
          'Retry-After': String(decision.retryAfterSeconds),
        });
      }
      const setLocks = new Map(decision.rows.map((row) => [row.key, row.lockedUntil]));
      const refund = (key: string) => throttles.refundAttempt(db, key, setLocks.get(key) ?? null);
      return {
        async succeeded() {
          await throttles.clearKey(db, pair);
          await Promise.all(keys.filter((key) => key !== pair).map(refund));
        },
        async failed() {
          if (++failuresSincePrune >= PRUNE_EVERY) await pruneNow();
        },
        async abandoned() {
          await Promise.all(keys.map(refund));
        },
      };
    },
    prune: pruneNow,
  };
}
