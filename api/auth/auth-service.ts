import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/knex';
import * as users from '../../db/repositories/users';
import { AppError, unauthorized } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { createLoginThrottle, type ThrottleSettings } from './login-throttle';
import { createPasswordHasher, type HasherSettings } from './passwords';
import { AccessTokens, hashRefreshToken, newRefreshToken } from './tokens';

export interface AuthSettings extends ThrottleSettings, HasherSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
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
  const hasher = createPasswordHasher(settings);
  const throttle = createLoginThrottle({ db, settings });

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

  /** The client holds a live session of this account: proof enough to pass the account-wide limits. */
  async function holdsSession(user: users.UserWithSecret | undefined, refreshToken: string | undefined) {
    if (!user || !refreshToken) return false;
    return users.isCurrentRefreshToken(db, user.id, hashRefreshToken(refreshToken));
  }

  /**
   * A hash made with older parameters is replaced now that the password is known. Best effort:
   * the login has succeeded already, and a busy hasher or a failed write only postpones it.
   */
  async function upgradeHash(user: users.UserWithSecret, password: string) {
    if (!hasher.isOutdated(user.passwordHash)) return;
    try {
      const upgraded = await hasher.hash(password);
      await users.replacePasswordHash(db, { userId: user.id, from: user.passwordHash, to: upgraded });
      logger.info({ category: 'security', event: 'password_rehashed', userId: user.id }, 'password hash upgraded');
    } catch (error) {
      logger.warn({ err: error, event: 'password_rehash_skipped', userId: user.id }, 'password hash not upgraded');
    }
  }

  return {
    async register(input: { email: string; password: string; name: string }): Promise<Session> {
      const passwordHash = await hasher.hash(input.password);
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

    /** `refreshToken`, optional: a session this client already holds, which lifts the account-wide limits. */
    async login(input: { email: string; password: string; refreshToken?: string }, ip: string): Promise<Session> {
      const user = await users.findUserByEmail(db, input.email);
      const trusted = await holdsSession(user, input.refreshToken);
      const attempt = await throttle.begin({ email: input.email, ip, trusted }).catch((error: unknown) => {
        if ((error as AppError).code === 'TOO_MANY_LOGIN_ATTEMPTS') metrics.rateLimitRejections.inc({ scope: 'login' });
        throw error;
      });
      let ok: boolean;
      try {
        ok = user ? await hasher.verify(input.password, user.passwordHash) : await hasher.verifyUnknownAccount(input.password);
      } catch (error) {
        await attempt.abandoned();
        throw error;
      }
      if (!user || !ok) {
        await attempt.failed();
        metrics.loginFailures.inc({ reason: user ? 'wrong_password' : 'unknown_account' });
        logger.warn({ category: 'security', event: 'login_failed', ip }, 'login failed');
        throw unauthorized('INVALID_CREDENTIALS', 'Email or password is incorrect');
      }
      await attempt.succeeded();
      await upgradeHash(user, input.password);
      const { passwordHash: _secret, ...publicUser } = user;
      return issueSession(publicUser, randomUUID());
    },

    /**
     * For provisioning scripts (the demo seed), never a route: the account, created unless it
     * exists (an existing one keeps its password), and a fresh session of it. No login takes
     * place, so no throttle or earlier failed login can stand in the way.
     */
    async provisionAccount(input: { email: string; password: string; name: string }): Promise<Session> {
      const existing = await users.findUserByEmail(db, input.email);
      const passwordHash = existing?.passwordHash ?? (await hasher.hash(input.password));
      const user = await users.ensureUser(db, { email: input.email.toLowerCase(), name: input.name, passwordHash });
      return issueSession(user, randomUUID());
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
