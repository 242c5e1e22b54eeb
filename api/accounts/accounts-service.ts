import type { Db } from '../../db/knex';
import * as mail from '../../db/repositories/mail';
import { notFound } from '../../lib/errors';

export type AccountsService = ReturnType<typeof createAccountsService>;

/** The signed-in user's own settings. */
export function createAccountsService({ db }: { db: Db }) {
  return {
    async preferences(userId: string): Promise<mail.MailPreferences> {
      const found = await mail.findMailPreferences(db, userId);
      if (!found) throw notFound('User');
      return found;
    },

    /** Only non-transactional mail can be turned off: receipts and refund notices always go out. */
    async updatePreferences(userId: string, patch: Partial<mail.MailPreferences>): Promise<mail.MailPreferences> {
      const updated = await mail.updateMailPreferences(db, userId, patch);
      if (!updated) throw notFound('User');
      return updated;
    },
  };
}
