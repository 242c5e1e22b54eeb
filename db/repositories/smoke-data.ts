import type { Db, Executor } from '../knex';

export interface SmokeDataFilter {
  /** LIKE pattern every smoke account's email matches (lowercase). */
  emailLike: string;
  /** This run's account, removed however young it is. */
  runEmail: string;
  /** LIKE pattern of smoke cafés' names; only cafés a smoke account owns are considered. */
  cafeNameLike: string;
  /** Accounts created before this are leftovers of earlier runs and go too. */
  staleBefore: Date;
  /** Order statuses after which no workflow writes to the order again. */
  settledStatuses: readonly string[];
}

export interface SmokeDataRemoved {
  users: number;
  cafes: number;
  /** Cafés left in place because an order of theirs is still being processed. */
  kept: { cafeId: string; orderId: string; status: string }[];
}

/**
 * Removes smoke accounts and the cafés they own with their orders (lines, events, products and
 * memberships go by cascade), in one transaction. A café with an unsettled order stays, with its owner: its order
 * workflow still writes to those rows.
 */
export async function deleteSmokeData(db: Db, filter: SmokeDataFilter): Promise<SmokeDataRemoved> {
  return db.transaction(async (trx) => {
    const users = smokeUsers(trx, filter);
    const cafes = trx('businesses as b')
      .join('memberships as m', 'm.businessId', 'b.id')
      .where('m.role', 'owner')
      .whereIn('m.userId', users)
      .where('b.name', 'like', filter.cafeNameLike)
      .select('b.id');
    const kept: SmokeDataRemoved['kept'] = await trx('orders')
      .whereIn('businessId', cafes.clone())
      .whereNotIn('status', filter.settledStatuses)
      .select('businessId as cafeId', 'id as orderId', 'status');
    const keptIds = kept.map((row) => row.cafeId);
    // Orders first: a café's cascade would reach products before the order lines that name them.
    await trx('orders').whereIn('businessId', cafes.clone()).whereNotIn('businessId', keptIds).del();
    const removedCafes = await trx('businesses').whereIn('id', cafes.clone()).whereNotIn('id', keptIds).del();
    // Orders name their customer without a cascade, and a kept café keeps its owner.
    const removedUsers = await trx('users')
      .whereIn('id', smokeUsers(trx, filter))
      .whereNotExists(trx('orders').whereRaw('orders.customer_id = users.id'))
      .whereNotExists(trx('memberships').whereRaw('memberships.user_id = users.id').where('role', 'owner'))
      .del();
    return { users: removedUsers, cafes: removedCafes, kept };
  });
}

function smokeUsers(db: Executor, filter: SmokeDataFilter) {
  return db('users')
    .select('id')
    .whereRaw('lower(email) like ?', [filter.emailLike])
    .andWhere((query) => query.whereRaw('lower(email) = ?', [filter.runEmail]).orWhere('createdAt', '<', filter.staleBefore));
}

/** Whether a café of this name still exists (a run's own café is named after its run). */
export async function cafeExists(db: Executor, name: string): Promise<boolean> {
  return Boolean(await db('businesses').where({ name }).first('id'));
}
