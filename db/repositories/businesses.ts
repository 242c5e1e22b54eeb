import type { Executor } from '../knex';
import { BusinessModel, MembershipModel } from '../models';

export type Role = 'owner' | 'manager' | 'staff';

export interface Business {
  id: string;
  name: string;
  currency: string;
  timeZone: string;
  paymentTimeoutSeconds: number | null;
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
  createdAt: row.createdAt as Date,
  updatedAt: row.updatedAt as Date,
});

export async function insertBusiness(
  db: Executor,
  input: { name: string; currency: string; timeZone: string; paymentTimeoutSeconds?: number | null },
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
  patch: Partial<Pick<Business, 'name' | 'currency' | 'timeZone' | 'paymentTimeoutSeconds'>>,
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

export async function countOwners(db: Executor, businessId: string): Promise<number> {
  const row = await db('memberships').where({ businessId, role: 'owner' }).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
