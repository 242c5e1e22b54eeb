import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/knex';
import * as users from '../../db/repositories/users';
import * as throttles from '../../db/repositories/login-throttles';
import { AppError, unauthorized } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { dummyPasswordHash, hashPassword, scryptParams, verifyPassword } from './passwords';
import { AccessTokens, hashRefreshToken, newRefreshToken } from './tokens';

export interface AuthSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
  passwordHashCost: number;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: users.User;
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: { db: Db; settings: AuthSettings; logger: Logger; metrics: Metrics }) {
  const { db, settings, logger, metrics } = deps;
  const accessTokens = new AccessTokens(settings.jwtSecret, settings.accessTokenTtlSeconds);
  const oneAtATime = keyedQueue();
  const throttleOptions = {
    maxFailures: settings.loginMaxFailures,
    windowSeconds: settings.loginLockSeconds,
    lockSeconds: settings.loginLockSeconds,
  };

  async function issueSession(user: users.User, familyId: string, executor: Db | users.Transaction = db) {
    const refresh = newRefreshToken();
    await users.insertRefreshToken(executor, {
      userId: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + settings.refreshTokenTtlSeconds * 1000),
    });
    const access = await accessTokens.sign({ userId: user.id, email: user.email });
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      tokenType: 'Bearer' as const,
      expiresIn: access.expiresIn,
      user,
    };
  }

  async function ensureNotLocked(keys: string[]) {
    for (const key of keys) {
      const until = await throttles.getLock(db, key);
      if (until) {
        metrics.rateLimitRejections.inc({ scope: 'login' });
        const retryAfter = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
        throw new AppError(429, 'TOO_MANY_LOGIN_ATTEMPTS', 'Too many failed logins; try again later', undefined, {
          'Retry-After': String(retryAfter),
        });
      }
    }
  }

  return {
    async register(input: { email: string; password: string; name: string }): Promise<Session> {
      const passwordHash = await hashPassword(input.password, scryptParams(settings.passwordHashCost));
      const taken = () => new AppError(409, 'EMAIL_TAKEN', 'An account with this email already exists');
      try {
        return await db.transaction(async (trx) => {
          if (await users.findUserByEmail(trx, input.email)) throw taken();
          const user = await users.insertUser(trx, { email: input.email, name: input.name, passwordHash });
          return issueSession(user, randomUUID(), trx);
        });
      } catch (error) {
        // Two registrations racing past the lookup: the unique index decides, the loser hears why.
        if (isUniqueViolation(error)) throw taken();
        throw error;
      }
    },

    login(input: { email: string; password: string }, ip: string): Promise<Session> {
      // With TRUST_PROXY the address comes from X-Forwarded-For, which a client reaching the app
      // directly can fill with kilobytes: more than the throttle table's primary-key index takes.
      const keys = [`account:${input.email.toLowerCase()}`, `ip:${ip.slice(0, 64)}`];
      // Attempts on one account run one after another: run side by side, a burst of guesses would
      // all pass the lock check before the first failure is counted.
      return oneAtATime(keys[0] as string, async () => {
        await ensureNotLocked(keys);
        const user = await users.findUserByEmail(db, input.email);
        const ok = await verifyPassword(
          input.password,
          user?.passwordHash ?? (await dummyPasswordHash(settings.passwordHashCost)),
        );
        if (!user || !ok) {
          await Promise.all(keys.map((key) => throttles.recordFailure(db, key, throttleOptions)));
          metrics.loginFailures.inc({ reason: user ? 'wrong_password' : 'unknown_account' });
          logger.warn({ category: 'security', event: 'login_failed', ip }, 'login failed');
          throw unauthorized('INVALID_CREDENTIALS', 'Email or password is incorrect');
        }
        await throttles.clearFailures(db, keys[0] as string);
        const { passwordHash: _secret, ...publicUser } = user;
        return issueSession(publicUser, randomUUID());
      });
    },

    /**
     * Rotates a refresh token. A token that was already rotated being presented again means it
     * leaked: the whole family is revoked, so the thief and the owner both have to log in again.
     */
    async refresh(refreshToken: string): Promise<Session> {
      const outcome = await db.transaction(async (trx) => {
        const stored = await users.findRefreshTokenForUpdate(trx, hashRefreshToken(refreshToken));
        if (!stored) return { error: 'INVALID_REFRESH_TOKEN' as const };
        if (stored.revokedAt) return { error: 'REFRESH_TOKEN_REVOKED' as const };
        if (stored.usedAt) {
          await users.revokeRefreshFamily(trx, stored.familyId);
          return { error: 'REFRESH_TOKEN_REUSED' as const, familyId: stored.familyId };
        }
        if (stored.expiresAt <= new Date()) return { error: 'REFRESH_TOKEN_EXPIRED' as const };
        await users.markRefreshTokenUsed(trx, stored.id);
        const user = await users.findUserById(trx, stored.userId);
        if (!user) return { error: 'INVALID_REFRESH_TOKEN' as const };
        return { session: await issueSession(user, stored.familyId, trx) };
      });
      if ('session' in outcome && outcome.session) return outcome.session;
      if (outcome.error === 'REFRESH_TOKEN_REUSED') {
        logger.warn(
          { category: 'security', event: 'refresh_token_reused', familyId: outcome.familyId },
          'refresh token reuse; family revoked',
        );
      }
      throw unauthorized(outcome.error, refreshErrorMessages[outcome.error]);
    },

    async logout(refreshToken: string): Promise<void> {
      await db.transaction(async (trx) => {
        const stored = await users.findRefreshTokenForUpdate(trx, hashRefreshToken(refreshToken));
        if (stored) await users.revokeRefreshFamily(trx, stored.familyId);
      });
    },

    verifyAccessToken: (token: string) => accessTokens.verify(token),

    findUser: (id: string) => users.findUserById(db, id),
  };
}

/** Runs tasks with the same key one after another (in this process); different keys run side by side. */
function keyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return async function <T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; nativeError?: { code?: string } };
  return (e?.code ?? e?.nativeError?.code) === '23505';
}

const refreshErrorMessages = {
  INVALID_REFRESH_TOKEN: 'Refresh token is invalid',
  REFRESH_TOKEN_REVOKED: 'Refresh token has been revoked',
  REFRESH_TOKEN_REUSED: 'Refresh token was already used; all sessions of this login were revoked',
  REFRESH_TOKEN_EXPIRED: 'Refresh token has expired',
} as const;
