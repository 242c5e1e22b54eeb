import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/knex';
import * as businesses from '../../db/repositories/businesses';
import { findUserById } from '../../db/repositories/users';
import { exponentOf } from '../../lib/currencies';
import { AppError, forbidden, notFound } from '../../lib/errors';
import { MANAGERS, requireRole } from './access';

/** Long enough to reach someone on holiday, short enough that a forwarded link goes stale. */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

type InvitedRole = businesses.InvitedRole;
export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const statusOf = (invitation: businesses.Invitation, now: Date): InvitationStatus => {
  if (invitation.acceptedAt) return 'accepted';
  if (invitation.revokedAt) return 'revoked';
  return invitation.expiresAt <= now ? 'expired' : 'pending';
};

/** What staff see: never the token, and nothing about whether the address has an account. */
const toView = (invitation: businesses.Invitation, now: Date) => ({
  id: invitation.id,
  businessId: invitation.businessId,
  email: invitation.email,
  role: invitation.role,
  status: statusOf(invitation, now),
  expiresAt: invitation.expiresAt.toISOString(),
  createdAt: invitation.createdAt.toISOString(),
});

/** Owners hand out manager and staff invitations; managers only staff ones, so none can promote a peer. */
function requireMayInvite(actorRole: businesses.Role, role: InvitedRole): void {
  if (actorRole === 'manager' && role !== 'staff') throw forbidden('Managers can only invite or revoke staff');
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;

export function createInvitationsService({ db }: { db: Db }) {
  return {
    /**
     * The same answer for every address, registered or not: the invitation and its token, shown
     * this once (only its hash is stored) for the inviter to pass on. Nobody joins until they accept.
     */
    async invite(userId: string, businessId: string, input: { email: string; role: InvitedRole }) {
      const actorRole = await requireRole(db, businessId, userId, MANAGERS);
      requireMayInvite(actorRole, input.role);
      const token = randomBytes(32).toString('base64url');
      const now = new Date();
      const invitation = await db.transaction((trx) =>
        businesses.replaceInvitation(trx, {
          businessId,
          email: input.email,
          role: input.role,
          invitedBy: userId,
          tokenHash: hashToken(token),
          expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
        }),
      );
      return { ...toView(invitation, now), token };
    },

    async listForBusiness(userId: string, businessId: string) {
      await requireRole(db, businessId, userId, MANAGERS);
      const now = new Date();
      return (await businesses.listPendingInvitations(db, businessId, now)).map((invitation) => toView(invitation, now));
    },

    async revoke(userId: string, businessId: string, invitationId: string) {
      const actorRole = await requireRole(db, businessId, userId, MANAGERS);
      const invitation = await businesses.findInvitation(db, businessId, invitationId);
      if (!invitation) throw notFound('Invitation');
      requireMayInvite(actorRole, invitation.role);
      if (invitation.acceptedAt) throw new AppError(409, 'INVITATION_ACCEPTED', 'This invitation was already accepted');
      await businesses.markInvitationRevoked(db, invitation.id);
    },

    /** Pending invitations addressed to the signed-in user's email, with the café's name. */
    async listMine(userId: string) {
      const user = await findUserById(db, userId);
      if (!user) return [];
      const now = new Date();
      const rows = await businesses.listPendingInvitationsForEmail(db, user.email, now);
      return rows.map((row) => ({ ...toView(row, now), businessName: row.businessName }));
    },

    /**
     * Membership starts here, with the invitee's consent: the token must be open, unexpired and
     * addressed to the signed-in account. Accepting again is not an error; an owner never becomes
     * staff this way, so a café cannot lose its owner.
     */
    async accept(userId: string, token: string) {
      const user = await findUserById(db, userId);
      if (!user) throw notFound('Invitation');
      const accepted = await db.transaction(async (trx) => {
        const invitation = await businesses.findInvitationByTokenForUpdate(trx, hashToken(token));
        if (!invitation) throw new AppError(404, 'INVITATION_NOT_FOUND', 'No invitation has this token');
        if (invitation.email.toLowerCase() !== user.email.toLowerCase()) {
          throw new AppError(
            403,
            'INVITATION_FOR_ANOTHER_ACCOUNT',
            'This invitation is addressed to another email; sign in with it',
          );
        }
        if (invitation.acceptedAt) {
          // A repeated accept answers like the first; after leaving the café, the used token is no way back in.
          const stillMember = invitation.acceptedBy === userId && (await businesses.findRole(trx, invitation.businessId, userId));
          if (stillMember) return invitation;
          throw new AppError(409, 'INVITATION_ACCEPTED', 'This invitation was already accepted');
        }
        if (invitation.revokedAt) throw new AppError(409, 'INVITATION_REVOKED', 'This invitation was revoked');
        if (invitation.expiresAt <= new Date()) {
          throw new AppError(409, 'INVITATION_EXPIRED', 'This invitation has expired; ask for a new one');
        }
        const current = await businesses.findRole(trx, invitation.businessId, userId);
        if (current === 'owner') throw new AppError(409, 'MEMBER_IS_OWNER', 'You own this business');
        await businesses.upsertMembership(trx, { businessId: invitation.businessId, userId, role: invitation.role });
        await businesses.markInvitationAccepted(trx, invitation.id, userId);
        return invitation;
      });
      const business = await businesses.findBusiness(db, accepted.businessId);
      const role = await businesses.findRole(db, accepted.businessId, userId);
      if (!business || !role) throw notFound('Business');
      return { ...business, currencyExponent: exponentOf(business.currency), role };
    },
  };
}
