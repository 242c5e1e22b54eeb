import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import type { BusinessesService } from './businesses-service';
import { BusinessIdParams, BusinessInputSchema, BusinessPatchSchema, BusinessSchema, MemberSchema } from './schemas';
import { registerInvitationRoutes } from './invitation-routes';

const notFound = { description: 'No such business, or you have no role in it (NOT_FOUND)' };

export function registerBusinessRoutes(api: ApiRoutes, service: BusinessesService): void {
  registerInvitationRoutes(api, service.invitations);

  api.add({
    method: 'post',
    path: '/v1/businesses',
    operationId: 'createBusiness',
    summary: 'Create a café; you become its owner',
    tags: ['businesses'],
    auth: 'user',
    body: BusinessInputSchema,
    responses: {
      201: { description: 'Created', schema: BusinessSchema },
      422: { description: 'A currency MercadoPago does not settle (UNSUPPORTED_CURRENCY)' },
    },
    handler: async (ctx, { body, user }) => {
      const business = await service.create(user.userId, body);
      ctx.state.businessId = business.id;
      return { status: 201, body: business, headers: { Location: `/v1/businesses/${business.id}` } };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/businesses',
    operationId: 'listMyBusinesses',
    summary: 'Cafés where you are owner, manager or staff',
    tags: ['businesses'],
    auth: 'user',
    responses: { 200: { description: 'Your cafés', schema: z.object({ data: z.array(BusinessSchema) }) } },
    handler: async (_ctx, { user }) => ({ body: { data: await service.listMine(user.userId) } }),
  });

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId',
    operationId: 'getBusiness',
    summary: "A café's profile (any signed-in user); `role` is yours in it, or null",
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams,
    responses: { 200: { description: 'The café', schema: BusinessSchema }, 404: notFound },
    handler: async (_ctx, { params, user }) => ({ body: await service.get(user.userId, params.businessId) }),
  });

  api.add({
    method: 'patch',
    path: '/v1/businesses/:businessId',
    operationId: 'updateBusiness',
    summary: 'Change name, currency, time zone or payment timeout (owner, manager)',
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams,
    body: BusinessPatchSchema,
    responses: {
      200: { description: 'Updated', schema: BusinessSchema },
      403: { description: 'Role too low' },
      404: notFound,
      422: { description: 'A currency MercadoPago does not settle (UNSUPPORTED_CURRENCY)' },
    },
    handler: async (ctx, { params, body, user }) => {
      ctx.state.businessId = params.businessId;
      return { body: await service.update(user.userId, params.businessId, body) };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId/members',
    operationId: 'listMembers',
    summary: 'Staff of the café (owner, manager)',
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams,
    responses: { 200: { description: 'Members', schema: z.object({ data: z.array(MemberSchema) }) }, 404: notFound },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      return { body: { data: await service.listMembers(user.userId, params.businessId) } };
    },
  });

  api.add({
    method: 'delete',
    path: '/v1/businesses/:businessId/members/:userId',
    operationId: 'removeMember',
    summary: 'Remove a manager or staff member (owner)',
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams.extend({ userId: z.uuid() }),
    responses: {
      204: { description: 'Removed' },
      403: { description: 'Role too low' },
      404: notFound,
      409: { description: 'That person owns the café and cannot be removed (MEMBER_IS_OWNER)' },
    },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      await service.removeMember(user.userId, params.businessId, params.userId);
      return { status: 204 };
    },
  });
}
