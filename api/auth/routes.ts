import { z } from 'zod';
import { notFound } from '../../lib/errors';
import type { ApiRoutes } from '../http/routes';
import type { AuthService } from './auth-service';

const Email = z
  .email()
  .max(254)
  .transform((email) => email.toLowerCase());

export const RegisterSchema = z
  .object({
    email: Email,
    // Length over composition rules (NIST 800-63B); 128 caps the hashing work per request.
    password: z.string().min(10, 'At least 10 characters').max(128),
    name: z.string().trim().min(1).max(120),
  })
  .strict()
  .meta({ id: 'RegisterInput' });

const LoginSchema = z
  .object({
    email: Email,
    password: z.string().min(1).max(128),
    refreshToken: z.string().min(1).max(200).optional().meta({
      description:
        "The latest refresh token this device holds for the account, even expired: with the right password it passes the account-wide and per-IP login limits (not this device's own)",
    }),
  })
  .strict()
  .meta({ id: 'LoginInput' });
const RefreshSchema = z
  .object({ refreshToken: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'RefreshInput' });

const UserSchema = z.object({ id: z.uuid(), email: z.string(), name: z.string(), createdAt: z.string() }).meta({ id: 'User' });

const SessionSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires' }),
    user: UserSchema,
  })
  .meta({ id: 'Session' });

export function registerAuthRoutes(api: ApiRoutes, auth: AuthService): void {
  api.add({
    method: 'post',
    path: '/v1/auth/register',
    operationId: 'register',
    summary: 'Create an account and sign in',
    tags: ['auth'],
    auth: 'none',
    body: RegisterSchema,
    responses: {
      201: { description: 'Account created', schema: SessionSchema },
      409: { description: 'Email already registered (EMAIL_TAKEN)' },
      503: { description: 'Too many passwords being hashed at once (BUSY, with Retry-After)' },
    },
    handler: async (_ctx, { body }) => ({ status: 201, body: await auth.register(body) }),
  });

  api.add({
    method: 'post',
    path: '/v1/auth/login',
    operationId: 'login',
    summary: 'Sign in with email and password',
    tags: ['auth'],
    auth: 'none',
    body: LoginSchema,
    responses: {
      200: { description: 'Signed in', schema: SessionSchema },
      401: { description: 'Wrong email or password (INVALID_CREDENTIALS)' },
      429: {
        description:
          'Too many failed logins from this address for this account, or from this address or for this account overall (TOO_MANY_LOGIN_ATTEMPTS, with Retry-After)',
      },
      503: { description: 'Too many sign-ins being checked at once (BUSY, with Retry-After)' },
    },
    handler: async (ctx, { body }) => ({ body: await auth.login(body, ctx.ip) }),
  });

  api.add({
    method: 'post',
    path: '/v1/auth/refresh',
    operationId: 'refresh',
    summary: 'Exchange a refresh token for a new session (the old token stops working)',
    tags: ['auth'],
    auth: 'none',
    body: RefreshSchema,
    responses: {
      200: { description: 'New session', schema: SessionSchema },
      401: {
        description:
          'INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED, REFRESH_TOKEN_REVOKED, or REFRESH_TOKEN_REUSED (a rotated token was presented again: every token of that login is revoked)',
      },
    },
    handler: async (_ctx, { body }) => ({ body: await auth.refresh(body.refreshToken) }),
  });

  api.add({
    method: 'post',
    path: '/v1/auth/logout',
    operationId: 'logout',
    summary: 'Revoke the refresh token and every token rotated from the same login',
    tags: ['auth'],
    auth: 'none',
    body: RefreshSchema,
    responses: { 204: { description: 'Signed out (also when the token was unknown)' } },
    handler: async (_ctx, { body }) => {
      await auth.logout(body.refreshToken);
      return { status: 204 };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/me',
    operationId: 'me',
    summary: 'The signed-in account',
    tags: ['auth'],
    auth: 'user',
    responses: { 200: { description: 'You', schema: UserSchema } },
    handler: async (_ctx, { user }) => {
      const found = await auth.findUser(user.userId);
      if (!found) throw notFound('User');
      return { body: found };
    },
  });
}
