import type { Knex } from 'knex';
import type { Executor } from '../knex';
import { UserModel, RefreshTokenModel } from '../models';

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

const toUser = (row: UserModel): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  createdAt: row.createdAt as Date,
});

export async function insertUser(db: Executor, input: { email: string; name: string; passwordHash: string }): Promise<User> {
  const row = await UserModel.query(db).insert(input).returning('*');
  return toUser(row);
}

/** Creates the account unless one with this email (in any case) exists; either way, returns it. */
export async function ensureUser(db: Executor, input: { email: string; name: string; passwordHash: string }): Promise<User> {
  await db.raw('insert into users (email, name, password_hash) values (?, ?, ?) on conflict ((lower(email))) do nothing', [
    input.email,
    input.name,
    input.passwordHash,
  ]);
  const user = await findUserByEmail(db, input.email);
  if (!user) throw new Error(`user ${input.email} vanished right after its insert`);
  const { passwordHash: _secret, ...publicUser } = user;
  return publicUser;
}

/** Replaces a hash only if it is still the one read: a password changed meanwhile is not overwritten. */
export async function replacePasswordHash(db: Executor, input: { userId: string; from: string; to: string }): Promise<boolean> {
  const updated = await UserModel.query(db)
    .patch({ passwordHash: input.to })
    .where({ id: input.userId, passwordHash: input.from });
  return updated > 0;
}

export async function findUserById(db: Executor, id: string): Promise<User | undefined> {
  const row = await UserModel.query(db).findById(id);
  return row && toUser(row);
}

export async function findUserByEmail(db: Executor, email: string): Promise<UserWithSecret | undefined> {
  const row = await UserModel.query(db).whereRaw('lower(email) = lower(?)', [email]).first();
  return row && { ...toUser(row), passwordHash: row.passwordHash };
}

export interface RefreshToken {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export async function insertRefreshToken(
  db: Executor,
  input: { userId: string; familyId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await RefreshTokenModel.query(db).insert(input);
}

/** Locks the row so two concurrent refreshes of one token cannot both rotate it. */
export type Transaction = Knex.Transaction;

export async function findRefreshTokenForUpdate(trx: Knex.Transaction, tokenHash: string): Promise<RefreshToken | undefined> {
  const row = await RefreshTokenModel.query(trx).where({ tokenHash }).forUpdate().first();
  return (
    row && {
      id: row.id,
      userId: row.userId,
      familyId: row.familyId,
      expiresAt: row.expiresAt,
      usedAt: row.usedAt,
      revokedAt: row.revokedAt,
    }
  );
}

/**
 * Whether `tokenHash` is the latest refresh token of one of the user's sessions: not rotated, not
 * revoked. An expired one still counts: it proves the device signed in before.
 */
export async function isCurrentRefreshToken(db: Executor, userId: string, tokenHash: string): Promise<boolean> {
  const row = await RefreshTokenModel.query(db).where({ tokenHash, userId }).whereNull('usedAt').whereNull('revokedAt').first();
  return row !== undefined;
}

export async function markRefreshTokenUsed(trx: Knex.Transaction, id: string): Promise<void> {
  await RefreshTokenModel.query(trx).patch({ usedAt: new Date() }).where({ id });
}

export async function revokeRefreshFamily(db: Executor, familyId: string): Promise<number> {
  return RefreshTokenModel.query(db).patch({ revokedAt: new Date() }).where({ familyId }).whereNull('revokedAt');
}
