import type { Db } from '../../db/knex';
import * as businesses from '../../db/repositories/businesses';
import { exponentOf, isSupportedCurrency, SUPPORTED_CURRENCIES } from '../../lib/currencies';
import { AppError, notFound } from '../../lib/errors';
import type { MailLocale } from '../../activities/mail/messages';
import { MANAGERS, requireRole } from './access';
import { createInvitationsService } from './invitations-service';

export interface BusinessInput {
  name: string;
  currency: string;
  timeZone: string;
  paymentTimeoutSeconds?: number | null;
  locale?: MailLocale;
}

export type BusinessesService = ReturnType<typeof createBusinessesService>;

/** Only currencies MercadoPago settles can be charged; anything else would be taken at the wrong scale. */
function requireSupportedCurrency(currency: string | undefined): void {
  if (currency === undefined || isSupportedCurrency(currency)) return;
  throw new AppError(422, 'UNSUPPORTED_CURRENCY', `MercadoPago does not settle ${currency} for us`, {
    supported: SUPPORTED_CURRENCIES,
  });
}

/** The profile with the currency's exponent, so clients show 250000 ARS as 2500.00 and 5000 CLP as 5000. */
const withExponent = <T extends businesses.Business>(business: T) => ({
  ...business,
  currencyExponent: exponentOf(business.currency),
});

export function createBusinessesService({ db }: { db: Db }) {
  return {
    invitations: createInvitationsService({ db }),

    /** The creator becomes its owner in the same transaction: no café is ever ownerless. */
    async create(userId: string, input: BusinessInput) {
      requireSupportedCurrency(input.currency);
      return db.transaction(async (trx) => {
        const business = await businesses.insertBusiness(trx, input);
        await businesses.upsertMembership(trx, { businessId: business.id, userId, role: 'owner' });
        return withExponent({ ...business, role: 'owner' as const });
      });
    },

    listMine: async (userId: string) => (await businesses.listBusinessesOfUser(db, userId)).map(withExponent),

    /** Any signed-in user may read a café's public profile (customers order from it). */
    async get(userId: string, businessId: string) {
      const business = await businesses.findBusiness(db, businessId);
      if (!business) throw notFound('Business');
      const role = await businesses.findRole(db, businessId, userId);
      return withExponent({ ...business, role: role ?? null });
    },

    async update(userId: string, businessId: string, patch: Partial<BusinessInput>) {
      const role = await requireRole(db, businessId, userId, MANAGERS);
      requireSupportedCurrency(patch.currency);
      const business = await businesses.updateBusiness(db, businessId, patch);
      if (!business) throw notFound('Business');
      return withExponent({ ...business, role });
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
