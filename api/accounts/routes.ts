import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import type { AccountsService } from './accounts-service';

export const PreferencesSchema = z
  .object({
    orderUpdatesEmails: z.boolean().meta({
      description: 'The "your order is ready" email. Receipts and cancellation or refund notices are always sent.',
    }),
  })
  .meta({ id: 'Preferences' });

export const PreferencesPatchSchema = PreferencesSchema.partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'Send at least one preference to change')
  .meta({ id: 'PreferencesPatch' });

export function registerAccountRoutes(api: ApiRoutes, service: AccountsService): void {
  api.add({
    method: 'get',
    path: '/v1/me/preferences',
    operationId: 'getMyPreferences',
    summary: 'Your email preferences',
    tags: ['auth'],
    auth: 'user',
    responses: { 200: { description: 'Your preferences', schema: PreferencesSchema } },
    handler: async (_ctx, { user }) => ({ body: await service.preferences(user.userId) }),
  });

  api.add({
    method: 'patch',
    path: '/v1/me/preferences',
    operationId: 'updateMyPreferences',
    summary: 'Opt in or out of non-transactional email (the "order ready" notice)',
    tags: ['auth'],
    auth: 'user',
    body: PreferencesPatchSchema,
    responses: { 200: { description: 'Updated', schema: PreferencesSchema } },
    handler: async (_ctx, { body, user }) => ({ body: await service.updatePreferences(user.userId, body) }),
  });
}
