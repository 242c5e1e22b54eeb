import type { Db } from '../../db/knex';
import * as businesses from '../../db/repositories/businesses';
import { findUserByEmail } from '../../db/repositories/users';
import { AppError, notFound } from '../../lib/errors';
import { MANAGERS, requireRole } from './access';

export interface BusinessInput {
  name: string;
  currency: string;
  timeZone: string;
  paymentTimeoutSeconds?: number | null;
}

export type BusinessesService = ReturnType<typeof createBusinessesService>;

export function createBusinessesService({ db }: { db: Db }) {
  return {
    /** The creator becomes its owner in the same transaction: no café is ever ownerless. */
    async create(userId: string, input: BusinessInput): Promise<businesses.BusinessWithRole> {
      return db.transaction(async (trx) => {
        const business = await businesses.insertBusiness(trx, input);
        await businesses.upsertMembership(trx, { businessId: business.id, userId, role: 'owner' });
        return { ...business, role: 'owner' as const };
      });
    },

    listMine: (userId: string) => businesses.listBusinessesOfUser(db, userId),

    /** Any signed-in user may read a café's public profile (customers order from it). */
    async get(userId: string, businessId: string) {
      const business = await businesses.findBusiness(db, businessId);
      if (!business) throw notFound('Business');
      const role = await businesses.findRole(db, businessId, userId);
      return { ...business, role: role ?? null };
    },

    async update(userId: string, businessId: string, patch: Partial<BusinessInput>) {
      const role = await requireRole(db, businessId, userId, MANAGERS);
      const business = await businesses.updateBusiness(db, businessId, patch);
      if (!business) throw notFound('Business');
      return { ...business, role };
    },

    /**
     * Owners add managers and staff; managers add staff. Ownership is not handed out here, so a
     * manager can never promote themselves.
     */
    async addMember(userId: string, businessId: string, input: { email: string; role: 'manager' | 'staff' }) {
      const actorRole = await requireRole(db, businessId, userId, MANAGERS);
      if (actorRole === 'manager' && input.role !== 'staff') {
        throw new AppError(403, 'FORBIDDEN', 'Managers can only add staff');
      }
      const member = await findUserByEmail(db, input.email);
      if (!member) throw new AppError(404, 'USER_NOT_FOUND', 'No account with this email; ask them to register first');
      const current = await businesses.findRole(db, businessId, member.id);
      if (current === 'owner') throw new AppError(409, 'MEMBER_IS_OWNER', 'This person owns the business');
      // Re-adding someone changes their role: a manager must not demote a fellow manager to staff.
      if (actorRole === 'manager' && current === 'manager') {
        throw new AppError(403, 'FORBIDDEN', 'Managers can only add or change staff');
      }
      await businesses.upsertMembership(db, { businessId, userId: member.id, role: input.role });
      return { userId: member.id, email: member.email, name: member.name, role: input.role };
    },

    async listMembers(userId: string, businessId: string) {
      await requireRole(db, businessId, userId, MANAGERS);
      return businesses.listMembers(db, businessId);
    },

    async removeMember(userId: string, businessId: string, memberId: string) {
      await requireRole(db, businessId, userId, ['owner']);
      const role = await businesses.findRole(db, businessId, memberId);
      if (!role) throw notFound('Member');
      if (role === 'owner') throw new AppError(409, 'MEMBER_IS_OWNER', 'An owner cannot be removed');
      await businesses.removeMembership(db, businessId, memberId);
    },
  };
}
