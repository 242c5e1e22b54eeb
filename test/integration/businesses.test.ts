import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createCafe, registerUser, type TestUser, cafeWithCast as fixtureCafeWithCast, type Role } from '../support/fixtures';
import { useOrderStack } from '../support/use-stack';

describe('businesses', () => {
  const the = useOrderStack({
    name: 'businesses',
    withWorker: false,
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
    cafe: false,
    customer: false,
  });

  const cafeWithCast = () => fixtureCafeWithCast(the.api);

  describe('create, list and read', () => {
    it('when a user creates a café, then 201 with a Location and they are its owner', async () => {
      const owner = await registerUser(the.api);

      const res = await the.api.post(
        '/v1/businesses',
        { name: '  Café Tortoni  ', currency: 'ARS', timeZone: 'America/Argentina/Buenos_Aires', paymentTimeoutSeconds: 600 },
        { token: owner.token },
      );

      expect(res.status).to.equal(201);
      expect(res.headers.get('location')).to.equal(`/v1/businesses/${res.body.id}`);
      expect(res.body).to.include({
        name: 'Café Tortoni',
        currency: 'ARS',
        currencyExponent: 2,
        timeZone: 'America/Argentina/Buenos_Aires',
        paymentTimeoutSeconds: 600,
        role: 'owner',
      });
      const members = await the.api.get(`/v1/businesses/${res.body.id}/members`, { token: owner.token });
      expect(members.body.data).to.deep.equal([{ userId: owner.id, email: owner.email, name: 'Test User', role: 'owner' }]);
    });

    it('when no payment timeout is given, then it is null (the default applies)', async () => {
      const owner = await registerUser(the.api);

      const cafe = await createCafe(the.api, owner);

      expect((cafe as unknown as { paymentTimeoutSeconds: unknown }).paymentTimeoutSeconds).to.equal(null);
    });

    it('when a café is created in Portuguese and switched to English, then its profile says so (Spanish when not given)', async () => {
      const owner = await registerUser(the.api);
      const spanish = await createCafe(the.api, owner);
      const portuguese = await the.api.post(
        '/v1/businesses',
        { name: 'Café Paulista', currency: 'BRL', timeZone: 'America/Sao_Paulo', locale: 'pt-BR' },
        { token: owner.token },
      );

      const english = await the.api.patch(`/v1/businesses/${portuguese.body.id}`, { locale: 'en' }, { token: owner.token });

      expect((spanish as unknown as { locale: unknown }).locale).to.equal('es');
      expect(portuguese.status).to.equal(201);
      expect(portuguese.body.locale).to.equal('pt-BR');
      expect(english.status).to.equal(200);
      expect(english.body.locale).to.equal('en');
      const listed = (await the.api.get('/v1/businesses', { token: owner.token })).body.data;
      expect(listed.map((b: { locale: string }) => b.locale)).to.deep.equal(['es', 'en']);
    });

    it('when a user lists their cafés, then exactly those where they have a role, each with that role', async () => {
      const { cafe, cast } = await cafeWithCast();
      const own = await createCafe(the.api, cast.staff, { name: 'Staff side project' });

      const res = await the.api.get('/v1/businesses', { token: cast.staff.token });

      expect(res.status).to.equal(200);
      expect(res.body.data.map((b: { id: string; role: string }) => [b.id, b.role])).to.deep.equal([
        [cafe.id, 'staff'],
        [own.id, 'owner'],
      ]);
      expect((await the.api.get('/v1/businesses', { token: cast.customer.token })).body.data).to.deep.equal([]);
    });

    it('when a member reads the café, then its profile with their role', async () => {
      const { cafe, cast } = await cafeWithCast();

      const res = await the.api.get(`/v1/businesses/${cafe.id}`, { token: cast.manager.token });

      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: cafe.id, name: 'Café Test', role: 'manager' });
    });

    it('when a customer reads the café, then its public profile with role null', async () => {
      const { cafe, cast } = await cafeWithCast();

      const res = await the.api.get(`/v1/businesses/${cafe.id}`, { token: cast.customer.token });

      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: cafe.id, role: null });
    });

    it('when the café does not exist, then 404 NOT_FOUND', async () => {
      const user = await registerUser(the.api);

      const res = await the.api.get(`/v1/businesses/${randomUUID()}`, { token: user.token });

      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('NOT_FOUND');
    });

    it('when the café id is not a UUID, then 400 VALIDATION_FAILED on the path', async () => {
      const user = await registerUser(the.api);

      const res = await the.api.get('/v1/businesses/not-a-uuid', { token: user.token });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details[0]).to.include({ in: 'path', path: 'businessId' });
    });

    it('when no token is sent, then 401 on every café route', async () => {
      const id = randomUUID();
      const calls = [
        the.api.post('/v1/businesses', { name: 'x', currency: 'ARS', timeZone: 'UTC' }),
        the.api.get('/v1/businesses'),
        the.api.get(`/v1/businesses/${id}`),
        the.api.patch(`/v1/businesses/${id}`, { name: 'x' }),
        the.api.get(`/v1/businesses/${id}/members`),
        the.api.post(`/v1/businesses/${id}/invitations`, { email: 'a@example.test', role: 'staff' }),
        the.api.get(`/v1/businesses/${id}/invitations`),
        the.api.delete(`/v1/businesses/${id}/invitations/${randomUUID()}`),
        the.api.get('/v1/invitations'),
        the.api.post('/v1/invitations/accept', { token: 'x' }),
        the.api.delete(`/v1/businesses/${id}/members/${randomUUID()}`),
      ];

      for (const res of await Promise.all(calls)) {
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal('UNAUTHORIZED');
      }
    });
  });

  describe('validation', () => {
    let owner: TestUser;
    before(async () => {
      owner = await registerUser(the.api);
    });
    const create = (body: Record<string, unknown>) =>
      the.api.post('/v1/businesses', { name: 'Café', currency: 'ARS', timeZone: 'UTC', ...body }, { token: owner.token });

    for (const [what, body, path] of [
      ['the currency is lower case', { currency: 'ars' }, 'currency'],
      ['the time zone is not IANA', { timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
      ['the name is blank', { name: '   ' }, 'name'],
      ['the payment timeout is under a minute', { paymentTimeoutSeconds: 10 }, 'paymentTimeoutSeconds'],
      ['the payment timeout is fractional', { paymentTimeoutSeconds: 90.5 }, 'paymentTimeoutSeconds'],
      ['the locale is not one we write in', { locale: 'fr' }, 'locale'],
      ['an unknown field is sent', { owner: 'me' }, ''],
    ] as const) {
      it(`when ${what}, then 400 VALIDATION_FAILED naming "${path || '(body)'}"`, async () => {
        const res = await create(body);

        expect(res.status).to.equal(400);
        expect(res.body.error).to.include({ code: 'VALIDATION_FAILED' });
        expect(res.body.error.message).to.be.a('string');
        expect(res.body.error.details).to.be.an('array').with.length.greaterThan(0);
        expect(res.body.error.details[0]).to.include({ in: 'body', path });
      });
    }

    it('when a patch is empty, then 400 VALIDATION_FAILED', async () => {
      const cafe = await createCafe(the.api, owner);

      const res = await the.api.patch(`/v1/businesses/${cafe.id}`, {}, { token: owner.token });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    });
  });

  describe('roles on PATCH /v1/businesses/:id', () => {
    const expected: Record<Role, number> = { owner: 200, manager: 200, staff: 403, customer: 404 };
    for (const [role, status] of Object.entries(expected) as [Role, number][]) {
      it(`when the ${role} renames the café, then ${status}`, async () => {
        const { cafe, cast } = await cafeWithCast();

        const res = await the.api.patch(`/v1/businesses/${cafe.id}`, { name: `Renamed by ${role}` }, { token: cast[role].token });

        expect(res.status).to.equal(status);
        const name = (await the.api.get(`/v1/businesses/${cafe.id}`, { token: cast.owner.token })).body.name;
        expect(name).to.equal(status === 200 ? `Renamed by ${role}` : 'Café Test');
        if (status === 200) expect(res.body).to.include({ name: `Renamed by ${role}`, role });
        if (status === 403) expect(res.body.error.code).to.equal('FORBIDDEN');
        if (status === 404) expect(res.body.error.code).to.equal('NOT_FOUND');
      });
    }

    it('when the owner clears the payment timeout, then it is null again', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner, { paymentTimeoutSeconds: 300 });

      const res = await the.api.patch(`/v1/businesses/${cafe.id}`, { paymentTimeoutSeconds: null }, { token: owner.token });

      expect(res.status).to.equal(200);
      expect(res.body.paymentTimeoutSeconds).to.equal(null);
    });
  });

  describe('members', () => {
    describe('listing', () => {
      const expected: Record<Role, number> = { owner: 200, manager: 200, staff: 403, customer: 404 };
      for (const [role, status] of Object.entries(expected) as [Role, number][]) {
        it(`when the ${role} lists the members, then ${status}`, async () => {
          const { cafe, cast } = await cafeWithCast();

          const res = await the.api.get(`/v1/businesses/${cafe.id}/members`, { token: cast[role].token });

          expect(res.status).to.equal(status);
          if (status === 200) {
            expect(res.body.data.map((m: { userId: string; role: string }) => [m.userId, m.role])).to.deep.equal([
              [cast.owner.id, 'owner'],
              [cast.manager.id, 'manager'],
              [cast.staff.id, 'staff'],
            ]);
          } else {
            expect(res.body).not.to.have.property('data');
          }
        });
      }
    });

    describe('removing', () => {
      const cases: [Role, 'manager' | 'staff', number][] = [
        ['owner', 'manager', 204],
        ['owner', 'staff', 204],
        ['manager', 'staff', 403],
        ['staff', 'staff', 403],
        ['customer', 'staff', 404],
      ];
      for (const [actor, target, status] of cases) {
        it(`when the ${actor} removes the ${target}, then ${status}`, async () => {
          const { cafe, cast } = await cafeWithCast();

          const res = await the.api.delete(`/v1/businesses/${cafe.id}/members/${cast[target].id}`, { token: cast[actor].token });

          expect(res.status).to.equal(status);
          const members = (await the.api.get(`/v1/businesses/${cafe.id}/members`, { token: cast.owner.token })).body.data;
          const stillThere = members.some((m: { userId: string }) => m.userId === cast[target].id);
          expect(stillThere).to.equal(status !== 204);
        });
      }

      it('when a removed staff member comes back, then the café treats them as a stranger', async () => {
        const { cafe, cast } = await cafeWithCast();
        await the.api.delete(`/v1/businesses/${cafe.id}/members/${cast.manager.id}`, { token: cast.owner.token });

        const res = await the.api.patch(`/v1/businesses/${cafe.id}`, { name: 'Mine now' }, { token: cast.manager.token });

        expect(res.status).to.equal(404);
        expect((await the.api.get('/v1/businesses', { token: cast.manager.token })).body.data).to.deep.equal([]);
      });

      it('when the owner removes themselves, then 409 MEMBER_IS_OWNER', async () => {
        const { cafe, cast } = await cafeWithCast();

        const res = await the.api.delete(`/v1/businesses/${cafe.id}/members/${cast.owner.id}`, { token: cast.owner.token });

        expect(res.status).to.equal(409);
        expect(res.body.error.code).to.equal('MEMBER_IS_OWNER');
      });

      it('when the user is not a member, then 404 NOT_FOUND', async () => {
        const { cafe, cast } = await cafeWithCast();

        const res = await the.api.delete(`/v1/businesses/${cafe.id}/members/${cast.customer.id}`, { token: cast.owner.token });

        expect(res.status).to.equal(404);
        expect(res.body.error.code).to.equal('NOT_FOUND');
      });
    });
  });
});
