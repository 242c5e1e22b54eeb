import type { Db } from '../../db/knex';
import { pruneProcessedNotifications } from '../../db/repositories/webhooks';
import type { Logger } from '../../lib/logger';

/** Retention of rows that only grow: run by the daily prune schedule. Deleting twice deletes nothing more. */
export function createPruneActivities({ db, logger }: { db: Db; logger: Logger }) {
  return {
    async pruneWebhookNotifications(input: { olderThanDays: number }): Promise<{ deleted: number }> {
      const deleted = await pruneProcessedNotifications(db, input.olderThanDays);
      logger.info({ deleted, olderThanDays: input.olderThanDays }, 'webhook notifications pruned');
      return { deleted };
    },
  };
}
