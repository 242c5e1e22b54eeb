import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { cafeWithCast, createCafe, registerUser, type Role, type TestUser } from '../support/fixtures';
import { useOrderStack } from '../support/use-stack';

describe('invitations', () => {
  const the = useOrderStack({
    name: 'invitations',
    withWorker: false,
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
    cafe: false,
    customer: false,
  });

  const invite = (actor: TestUser, businessId: string, email: string, role: 'manager' | 'staff' = 'staff') =>
    the.api.post(`/v1/businesses/${businessId}/invitations`, { email, role }, { token: actor.token });
  const accept = (user: TestUser, token: string) => the.api.post('/v1/invitations/accept', { token }, { token: user.token });
  const members = async (owner: TestUser, businessId: string) =>
    (await the.api.get(`/v1/businesses/${businessId}/members`, { token: owner.token })).body.data as {
      userId: string;
      role: string;
    }[];
  const roleIn = async (user: TestUser, businessId: string) =>
    (await the.api.get(`/v1/businesses/${businessId}`, { token: user.token })).body.role as string | null;
  const ghostEmail = () => `ghost-${randomUUID()}@example.test`;

  describe('inviting', () => {
    it('when a registered and an unregistered address are invited, then the answers are the same byte for byte but for the values that must differ', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const registered = await registerUser(the.api, 'Registered Person');
      const unregistered = ghostEmail();

      const [forRegistered, forUnregistered] = [
        await invite(cast.owner, cafe.id, registered.email),
        await invite(cast.owner, cafe.id, unregistered),
      ];

      expect(forRegistered.status).to.equal(201);
      expect(forUnregistered.status).to.equal(forRegistered.status);
      expect(forUnregistered.headers.get('content-type')).to.equal(forRegistered.headers.get('content-type'));
      // Only the invitation's own values differ; with those masked, the two bodies are one text.
      const masked = (body: Record<string, unknown>, email: string) =>
        JSON.stringify(body)
          .replace(String(body.id), '<id>')
          .replace(email, '<email>')
          .replace(String(body.token), '<token>')
          .replace(String(body.expiresAt), '<expiresAt>')
          .replace(String(body.createdAt), '<createdAt>');
      expect(masked(forUnregistered.body, unregistered)).to.equal(masked(forRegistered.body, registered.email));
      expect(Object.keys(forRegistered.body)).to.deep.equal([
        'id',
        'businessId',
        'email',
        'role',
        'status',
        'expiresAt',
        'createdAt',
        'token',
      ]);
      expect(JSON.stringify(forRegistered.body)).not.to.include(registered.id);
      expect(JSON.stringify(forRegistered.body)).not.to.include('Registered Person');
      expect(forRegistered.body).to.include({ businessId: cafe.id, email: registered.email, role: 'staff', status: 'pending' });
    });

    it('when someone is invited, then they are not a member until they accept', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);

      const res = await invite(cast.owner, cafe.id, invitee.email, 'manager');

      expect(res.status).to.equal(201);
      expect((await members(cast.owner, cafe.id)).map((m) => m.userId)).not.to.include(invitee.id);
      expect(await roleIn(invitee, cafe.id)).to.equal(null);
      expect((await the.api.get(`/v1/businesses/${cafe.id}/orders`, { token: invitee.token })).status).to.equal(404);
      expect((await the.api.get('/v1/businesses', { token: invitee.token })).body.data).to.deep.equal([]);
    });

    const cases: [Role, 'manager' | 'staff', number][] = [
      ['owner', 'manager', 201],
      ['owner', 'staff', 201],
      ['manager', 'staff', 201],
      ['manager', 'manager', 403],
      ['staff', 'staff', 403],
      ['customer', 'staff', 404],
    ];
    for (const [actor, role, status] of cases) {
      it(`when the ${actor} invites a ${role}, then ${status}`, async () => {
        const { cafe, cast } = await cafeWithCast(the.api);
        const email = ghostEmail();

        const res = await invite(cast[actor], cafe.id, email, role);

        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        const pending = (await the.api.get(`/v1/businesses/${cafe.id}/invitations`, { token: cast.owner.token })).body.data;
        expect(pending.some((i: { email: string }) => i.email === email)).to.equal(status === 201);
        if (status === 403) expect(res.body.error.code).to.equal('FORBIDDEN');
        if (status === 404) expect(res.body.error.code).to.equal('NOT_FOUND');
      });
    }

    it('when the role is owner, then 400 VALIDATION_FAILED (ownership is not handed out)', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);

      const res = await the.api.post(
        `/v1/businesses/${cafe.id}/invitations`,
        { email: ghostEmail(), role: 'owner' },
        { token: cast.owner.token },
      );

      expect(res.status).to.equal(400);
      expect(res.body.error.details[0]).to.include({ in: 'body', path: 'role' });
    });

    it('when the token is stored, then only its SHA-256 is in the database', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);

      const res = await invite(cast.owner, cafe.id, ghostEmail());

      const row = await the.stack.db('invitations').where({ id: res.body.id }).first();
      expect(res.body.token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(row.tokenHash).to.equal(createHash('sha256').update(res.body.token).digest('hex'));
      expect(JSON.stringify(row)).not.to.include(res.body.token);
    });
  });

  describe('accepting', () => {
    it('when the invitee accepts, then they are a member with the invited role and the invitation is no longer pending', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.manager, cafe.id, invitee.email.toUpperCase());
      const mine = (await the.api.get('/v1/invitations', { token: invitee.token })).body.data;

      const res = await accept(invitee, invited.body.token);

      expect(mine).to.have.length(1);
      expect(mine[0]).to.include({
        id: invited.body.id,
        businessId: cafe.id,
        businessName: 'Café Test',
        role: 'staff',
        status: 'pending',
      });
      expect(mine[0]).not.to.have.property('token');
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ id: cafe.id, role: 'staff' });
      expect(await members(cast.owner, cafe.id)).to.deep.include({
        userId: invitee.id,
        email: invitee.email,
        name: 'Test User',
        role: 'staff',
      });
      expect((await the.api.get('/v1/invitations', { token: invitee.token })).body.data).to.deep.equal([]);
      const pending = (await the.api.get(`/v1/businesses/${cafe.id}/invitations`, { token: cast.owner.token })).body.data;
      expect(pending.map((i: { id: string }) => i.id)).not.to.include(invited.body.id);
    });

    it('when an address without an account is invited, then the person can register later and accept', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const email = ghostEmail();
      const invited = await invite(cast.owner, cafe.id, email, 'manager');
      const registered = await the.api.post('/v1/auth/register', { email, password: `pw-${randomUUID()}`, name: 'Late Joiner' });
      const newcomer = { email, token: registered.body.accessToken, id: registered.body.user.id } as TestUser;

      const res = await accept(newcomer, invited.body.token);

      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(await roleIn(newcomer, cafe.id)).to.equal('manager');
    });

    it('when another user accepts the token, then 403 INVITATION_FOR_ANOTHER_ACCOUNT, they do not join, and the invitee still can', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email, 'manager');

      const res = await accept(cast.customer, invited.body.token);

      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal('INVITATION_FOR_ANOTHER_ACCOUNT');
      expect(await roleIn(cast.customer, cafe.id)).to.equal(null);
      expect((await accept(invitee, invited.body.token)).status).to.equal(200);
      expect(await roleIn(invitee, cafe.id)).to.equal('manager');
    });

    it('when the invitation has expired, then 409 INVITATION_EXPIRED, no membership, and it is listed nowhere', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email);
      await the.stack
        .db('invitations')
        .where({ id: invited.body.id })
        .update({ expiresAt: new Date(Date.now() - 1000) });

      const res = await accept(invitee, invited.body.token);

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('INVITATION_EXPIRED');
      expect(await roleIn(invitee, cafe.id)).to.equal(null);
      expect((await the.api.get('/v1/invitations', { token: invitee.token })).body.data).to.deep.equal([]);
      expect((await the.api.get(`/v1/businesses/${cafe.id}/invitations`, { token: cast.owner.token })).body.data).to.deep.equal(
        [],
      );
    });

    it('when a new invitation has just been made, then it expires seven days later', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const before = Date.now();

      const res = await invite(cast.owner, cafe.id, ghostEmail());

      const expiresIn = Date.parse(res.body.expiresAt) - before;
      expect(expiresIn).to.be.within(7 * 86_400_000 - 60_000, 7 * 86_400_000 + 60_000);
    });

    it('when the token is unknown, then 404 INVITATION_NOT_FOUND', async () => {
      const user = await registerUser(the.api);

      const res = await accept(user, 'not-a-token-anyone-was-given');

      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('INVITATION_NOT_FOUND');
    });

    it('when the invitee accepts twice, then both answers are 200 and they are a member once', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email);

      const [first, second] = [await accept(invitee, invited.body.token), await accept(invitee, invited.body.token)];

      expect([first.status, second.status]).to.deep.equal([200, 200]);
      expect((await members(cast.owner, cafe.id)).filter((m) => m.userId === invitee.id)).to.have.length(1);
    });

    it('when a member who left comes back with their used token, then 409 INVITATION_ACCEPTED and they stay out', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email);
      await accept(invitee, invited.body.token);
      await the.api.delete(`/v1/businesses/${cafe.id}/members/${invitee.id}`, { token: cast.owner.token });

      const res = await accept(invitee, invited.body.token);

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('INVITATION_ACCEPTED');
      expect(await roleIn(invitee, cafe.id)).to.equal(null);
    });

    it('when the owner accepts a staff invitation to their own café, then 409 MEMBER_IS_OWNER and they stay owner', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invited = await invite(cast.manager, cafe.id, cast.owner.email);

      const res = await accept(cast.owner, invited.body.token);

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('MEMBER_IS_OWNER');
      expect(await roleIn(cast.owner, cafe.id)).to.equal('owner');
    });

    it('when a staff member accepts a manager invitation, then their role changes and they appear once', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invited = await invite(cast.owner, cafe.id, cast.staff.email, 'manager');

      expect(await roleIn(cast.staff, cafe.id)).to.equal('staff');
      expect((await accept(cast.staff, invited.body.token)).status).to.equal(200);

      expect((await members(cast.owner, cafe.id)).filter((m) => m.userId === cast.staff.id)).to.deep.equal([
        { userId: cast.staff.id, email: cast.staff.email, name: 'Staff', role: 'manager' },
      ]);
    });
  });

  describe('revoking and replacing', () => {
    it('when the invitation is revoked, then 204, its token answers 409 INVITATION_REVOKED and nobody joins', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email);

      const revoked = await the.api.delete(`/v1/businesses/${cafe.id}/invitations/${invited.body.id}`, {
        token: cast.manager.token,
      });
      const res = await accept(invitee, invited.body.token);

      expect(revoked.status).to.equal(204);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('INVITATION_REVOKED');
      expect(await roleIn(invitee, cafe.id)).to.equal(null);
      expect((await the.api.get('/v1/invitations', { token: invitee.token })).body.data).to.deep.equal([]);
    });

    it('when a manager revokes a manager invitation, then 403 and it stays pending', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invited = await invite(cast.owner, cafe.id, ghostEmail(), 'manager');

      const res = await the.api.delete(`/v1/businesses/${cafe.id}/invitations/${invited.body.id}`, { token: cast.manager.token });

      expect(res.status).to.equal(403);
      const pending = (await the.api.get(`/v1/businesses/${cafe.id}/invitations`, { token: cast.owner.token })).body.data;
      expect(pending.map((i: { id: string }) => i.id)).to.deep.equal([invited.body.id]);
    });

    it('when an accepted invitation is revoked, then 409 INVITATION_ACCEPTED and the member stays', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const invited = await invite(cast.owner, cafe.id, invitee.email);
      await accept(invitee, invited.body.token);

      const res = await the.api.delete(`/v1/businesses/${cafe.id}/invitations/${invited.body.id}`, { token: cast.owner.token });

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('INVITATION_ACCEPTED');
      expect(await roleIn(invitee, cafe.id)).to.equal('staff');
    });

    it('when the same address is invited again, then only the newest token works', async () => {
      const { cafe, cast } = await cafeWithCast(the.api);
      const invitee = await registerUser(the.api);
      const first = await invite(cast.owner, cafe.id, invitee.email, 'staff');
      const second = await invite(cast.owner, cafe.id, invitee.email, 'manager');

      const stale = await accept(invitee, first.body.token);
      const fresh = await accept(invitee, second.body.token);

      expect(stale.status).to.equal(409);
      expect(stale.body.error.code).to.equal('INVITATION_REVOKED');
      expect(fresh.status).to.equal(200);
      expect(await roleIn(invitee, cafe.id)).to.equal('manager');
    });
  });

  describe('other tenants', () => {
    async function twoCafes() {
      const [ownerA, ownerB] = [await registerUser(the.api), await registerUser(the.api)];
      const a = await createCafe(the.api, ownerA, { name: 'Café A' });
      const b = await createCafe(the.api, ownerB, { name: 'Café B' });
      const invitedToB = await invite(ownerB, b.id, ghostEmail());
      return { ownerA, ownerB, a, b, invitedToB };
    }

    it("when café A's owner invites into, lists or revokes café B's invitations, then 404 NOT_FOUND and B's invitation stays as it was", async () => {
      const { ownerA, ownerB, a, b, invitedToB } = await twoCafes();

      const answers = [
        await invite(ownerA, b.id, ownerA.email, 'manager'),
        await the.api.get(`/v1/businesses/${b.id}/invitations`, { token: ownerA.token }),
        await the.api.delete(`/v1/businesses/${b.id}/invitations/${invitedToB.body.id}`, { token: ownerA.token }),
        await the.api.delete(`/v1/businesses/${a.id}/invitations/${invitedToB.body.id}`, { token: ownerA.token }),
      ];

      for (const res of answers) {
        expect(res.status, JSON.stringify(res.body)).to.equal(404);
        expect(res.body.error.code).to.equal('NOT_FOUND');
        expect(JSON.stringify(res.body)).not.to.include(invitedToB.body.email);
      }
      const pending = (await the.api.get(`/v1/businesses/${b.id}/invitations`, { token: ownerB.token })).body.data;
      expect(pending.map((i: { id: string; status: string }) => [i.id, i.status])).to.deep.equal([
        [invitedToB.body.id, 'pending'],
      ]);
      expect((await the.api.get('/v1/invitations', { token: ownerA.token })).body.data).to.deep.equal([]);
      expect(await roleIn(ownerA, b.id)).to.equal(null);
    });
  });
});
