import type { Db } from '../../db/knex';
import { findRole, type Role } from '../../db/repositories/businesses';
import { forbidden, notFound } from '../../lib/errors';

export const MANAGERS: readonly Role[] = ['owner', 'manager'];
export const STAFF: readonly Role[] = ['owner', 'manager', 'staff'];

/**
 * The tenant boundary. Someone with no role in the business gets 404, exactly as for an id that
 * does not exist, so ids of other cafés reveal nothing; a member whose role is too low gets 403.
 */
export async function requireRole(db: Db, businessId: string, userId: string, allowed: readonly Role[]): Promise<Role> {
  const role = await findRole(db, businessId, userId);
  if (!role) throw notFound('Business');
  if (!allowed.includes(role)) throw forbidden(`This needs one of the roles: ${allowed.join(', ')}`);
  return role;
}
