import type { Knex } from 'knex';
import type { Executor } from '../knex';
import { BusinessModel, MembershipModel } from '../models';

export type Role = 'owner' | 'manager' | 'staff';

export interface Business {
  id: string;
  name: string;
  currency: string;
  timeZone: string;
  paymentTimeoutSeconds: number | null;
  locale: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface BusinessWithRole extends Business {
  role: Role;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
}

const toBusiness = (row: BusinessModel): Business => ({
  id: row.id,
  name: row.name,
  currency: row.currency,
  timeZone: row.timeZone,
  paymentTimeoutSeconds: row.paymentTimeoutSeconds,
  locale: row.locale,
  createdAt: row.createdAt as Date,
  updatedAt: row.updatedAt as Date,
});

export async function insertBusiness(
  db: Executor,
  input: { name: string; currency: string; timeZone: string; paymentTimeoutSeconds?: number | null; locale?: string },
): Promise<Business> {
  return toBusiness(await BusinessModel.query(db).insert(input).returning('*'));
}

export async function findBusiness(db: Executor, id: string): Promise<Business | undefined> {
  const row = await BusinessModel.query(db).findById(id);
  return row && toBusiness(row);
}

export async function updateBusiness(
  db: Executor,
  id: string,
  patch: Partial<Pick<Business, 'name' | 'currency' | 'timeZone' | 'paymentTimeoutSeconds' | 'locale'>>,
): Promise<Business | undefined> {
  const row = await BusinessModel.query(db).patchAndFetchById(id, patch);
  return row && toBusiness(row);
}

export async function listBusinessesOfUser(db: Executor, userId: string): Promise<BusinessWithRole[]> {
  const rows = await BusinessModel.query(db)
    .join('memberships', 'memberships.business_id', 'businesses.id')
    .where('memberships.user_id', userId)
    .select('businesses.*', 'memberships.role')
    .orderBy('businesses.created_at', 'asc');
  return rows.map((row) => ({ ...toBusiness(row), role: (row as unknown as { role: Role }).role }));
}

export async function findRole(db: Executor, businessId: string, userId: string): Promise<Role | undefined> {
  const row = await MembershipModel.query(db).findById([businessId, userId]);
  return row?.role;
}

/** Adds or changes a member's role; re-adding the same person is not an error. */
export async function upsertMembership(db: Executor, input: { businessId: string; userId: string; role: Role }): Promise<void> {
  await MembershipModel.query(db)
    .insert(input)
    .onConflict(['businessId', 'userId'])
    .merge({ role: input.role, updatedAt: new Date() });
}

export async function listMembers(db: Executor, businessId: string): Promise<Member[]> {
  return db('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where('memberships.business_id', businessId)
    .orderBy('memberships.created_at', 'asc')
    .select('users.id as userId', 'users.email', 'users.name', 'memberships.role');
}

export async function removeMembership(db: Executor, businessId: string, userId: string): Promise<number> {
  return MembershipModel.query(db).deleteById([businessId, userId]);
}

export type InvitedRole = Exclude<Role, 'owner'>;

export interface Invitation {
  id: string;
  businessId: string;
  email: string;
  role: InvitedRole;
  invitedBy: string | null;
  expiresAt: Date;
  acceptedAt: Date | null;
  acceptedBy: string | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const INVITATION_COLUMNS = [
  'id',
  'businessId',
  'email',
  'role',
  'invitedBy',
  'expiresAt',
  'acceptedAt',
  'acceptedBy',
  'revokedAt',
  'createdAt',
] as const;

const open = (query: Knex.QueryBuilder) => query.whereNull('acceptedAt').whereNull('revokedAt');

/** Revokes any open invitation for the address first, so the newest one (and its token) is the only one that works. */
export async function replaceInvitation(
  trx: Knex.Transaction,
  input: { businessId: string; email: string; role: InvitedRole; invitedBy: string; tokenHash: string; expiresAt: Date },
): Promise<Invitation> {
  await open(
    trx('invitations').where({ businessId: input.businessId }).whereRaw('lower(email) = lower(?)', [input.email]),
  ).update({ revokedAt: new Date() });
  const [row] = await trx('invitations').insert(input).returning(INVITATION_COLUMNS);
  return row as Invitation;
}

/** Open and not yet expired, newest first. */
export async function listPendingInvitations(db: Executor, businessId: string, now: Date): Promise<Invitation[]> {
  return open(db('invitations').where({ businessId }))
    .where('expiresAt', '>', now)
    .orderBy('createdAt', 'desc')
    .select(INVITATION_COLUMNS);
}

export async function listPendingInvitationsForEmail(
  db: Executor,
  email: string,
  now: Date,
): Promise<Array<Invitation & { businessName: string }>> {
  return open(db('invitations').whereRaw('lower(invitations.email) = lower(?)', [email]))
    .join('businesses', 'businesses.id', 'invitations.businessId')
    .where('invitations.expiresAt', '>', now)
    .orderBy('invitations.createdAt', 'desc')
    .select([...INVITATION_COLUMNS.map((column) => `invitations.${column}`), 'businesses.name as businessName']);
}

export async function findInvitation(db: Executor, businessId: string, id: string): Promise<Invitation | undefined> {
  return db('invitations').where({ businessId, id }).first(INVITATION_COLUMNS);
}

/** Locked, so two accepts of one token (or an accept racing a revoke) are decided one after the other. */
export async function findInvitationByTokenForUpdate(trx: Knex.Transaction, tokenHash: string): Promise<Invitation | undefined> {
  return trx('invitations').where({ tokenHash }).forUpdate().first(INVITATION_COLUMNS);
}

export async function markInvitationAccepted(trx: Knex.Transaction, id: string, userId: string): Promise<void> {
  await trx('invitations').where({ id }).update({ acceptedAt: new Date(), acceptedBy: userId });
}

export async function markInvitationRevoked(db: Executor, id: string): Promise<void> {
  await open(db('invitations').where({ id })).update({ revokedAt: new Date() });
}
