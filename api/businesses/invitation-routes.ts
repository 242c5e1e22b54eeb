import { z } from 'zod';
import type { ApiRoutes } from '../http/routes';
import type { InvitationsService } from './invitations-service';
import {
  AcceptInvitationSchema,
  BusinessIdParams,
  BusinessSchema,
  CreatedInvitationSchema,
  InvitationInputSchema,
  InvitationParams,
  InvitationSchema,
  MyInvitationSchema,
} from './schemas';

const notFound = { description: 'No such business, or you have no role in it (NOT_FOUND)' };

export function registerInvitationRoutes(api: ApiRoutes, service: InvitationsService): void {
  api.add({
    method: 'post',
    path: '/v1/businesses/:businessId/invitations',
    operationId: 'inviteMember',
    summary:
      'Invite someone by email as manager (owner) or staff (owner, manager); the same answer whether or not the address has an account',
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams,
    body: InvitationInputSchema,
    responses: {
      201: { description: 'Invited; an open invitation for the same address is replaced', schema: CreatedInvitationSchema },
      403: { description: 'Role too low' },
      404: notFound,
    },
    handler: async (ctx, { params, body, user }) => {
      ctx.state.businessId = params.businessId;
      return { status: 201, body: await service.invite(user.userId, params.businessId, body) };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/businesses/:businessId/invitations',
    operationId: 'listInvitations',
    summary: "The café's pending invitations (owner, manager)",
    tags: ['businesses'],
    auth: 'user',
    params: BusinessIdParams,
    responses: {
      200: { description: 'Pending invitations, newest first', schema: z.object({ data: z.array(InvitationSchema) }) },
      403: { description: 'Role too low' },
      404: notFound,
    },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      return { body: { data: await service.listForBusiness(user.userId, params.businessId) } };
    },
  });

  api.add({
    method: 'delete',
    path: '/v1/businesses/:businessId/invitations/:invitationId',
    operationId: 'revokeInvitation',
    summary: 'Revoke an invitation (owner; managers for staff invitations)',
    tags: ['businesses'],
    auth: 'user',
    params: InvitationParams,
    responses: {
      204: { description: 'Revoked; its token no longer works' },
      403: { description: 'Role too low' },
      404: { description: 'No such business or invitation, or you have no role in it (NOT_FOUND)' },
      409: { description: 'Already accepted (INVITATION_ACCEPTED)' },
    },
    handler: async (ctx, { params, user }) => {
      ctx.state.businessId = params.businessId;
      await service.revoke(user.userId, params.businessId, params.invitationId);
      return { status: 204 };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/invitations',
    operationId: 'listMyInvitations',
    summary: 'Pending invitations addressed to your email',
    tags: ['businesses'],
    auth: 'user',
    responses: { 200: { description: 'Your pending invitations', schema: z.object({ data: z.array(MyInvitationSchema) }) } },
    handler: async (_ctx, { user }) => ({ body: { data: await service.listMine(user.userId) } }),
  });

  api.add({
    method: 'post',
    path: '/v1/invitations/accept',
    operationId: 'acceptInvitation',
    summary: 'Accept an invitation addressed to your email; you become a member of the café',
    tags: ['businesses'],
    auth: 'user',
    body: AcceptInvitationSchema,
    responses: {
      200: { description: 'You are a member; the café with your role', schema: BusinessSchema },
      403: { description: 'The invitation is addressed to another email (INVITATION_FOR_ANOTHER_ACCOUNT)' },
      404: { description: 'No invitation has this token (INVITATION_NOT_FOUND)' },
      409: {
        description:
          'Expired (INVITATION_EXPIRED), revoked (INVITATION_REVOKED), used (INVITATION_ACCEPTED), or you own the café (MEMBER_IS_OWNER)',
      },
    },
    handler: async (ctx, { body, user }) => {
      const business = await service.accept(user.userId, body.token);
      ctx.state.businessId = business.id;
      return { body: business };
    },
  });
}
