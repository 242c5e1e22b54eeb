import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { addMember, addProduct, createCafe, registerUser } from '../support/fixtures';
import { type HttpResult } from '../support/http';
import { useOrderStack } from '../support/use-stack';

/**
 * The tenant boundary: the owner of café A reaching for café B by id. Every route that is not a
 * public read answers 404, exactly as for an id that does not exist, and B is left untouched.
 */
describe('tenant isolation', () => {
  const the = useOrderStack({ name: 'tenant-isolation', env: { RATE_LIMIT_PER_MINUTE: '100000' }, cafe: false, customer: false });

  /** Two cafés, each with an owner, a staff member and a product; B's name and product are marked secret. */
  async function twoCafes() {
    const secret = `secret-${randomUUID()}`;
    const [ownerA, ownerB, staffB] = await Promise.all([
      registerUser(the.api),
      registerUser(the.api),
      registerUser(the.api, secret),
    ]);
    const a = await createCafe(the.api, ownerA, { name: 'Café A' });
    const b = await createCafe(the.api, ownerB, { name: `Café B ${secret}` });
    await addMember(the.api, ownerB, b.id, staffB, 'staff');
    const productA = await addProduct(the.api, ownerA, a.id, { name: 'Cortado A', priceMinor: 300 });
    const productB = await addProduct(the.api, ownerB, b.id, { name: `Cortado ${secret}`, priceMinor: 400 });
    return { secret, ownerA, ownerB, staffB, a, b, productA, productB };
  }

  type World = Awaited<ReturnType<typeof twoCafes>>;

  function expectHidden(res: HttpResult, world: World) {
    expect(res.status, JSON.stringify(res.body)).to.equal(404);
    expect(res.body.error.code).to.equal('NOT_FOUND');
    expect(JSON.stringify(res.body)).not.to.include(world.secret);
    expect(JSON.stringify(res.body)).not.to.include(world.staffB.id);
  }

  async function expectCafeBUntouched(world: World) {
    const { ownerB, b, staffB, productB, secret } = world;
    const profile = await the.api.get(`/v1/businesses/${b.id}`, { token: ownerB.token });
    expect(profile.body).to.include({ name: `Café B ${secret}`, currency: 'ARS' });
    const members = (await the.api.get(`/v1/businesses/${b.id}/members`, { token: ownerB.token })).body.data;
    expect(members.map((m: { userId: string; role: string }) => [m.userId, m.role])).to.deep.equal([
      [ownerB.id, 'owner'],
      [staffB.id, 'staff'],
    ]);
    const menu = (await the.api.get(`/v1/businesses/${b.id}/products`, { token: ownerB.token })).body.data;
    expect(menu).to.have.length(1);
    expect(menu[0]).to.include({ id: productB.id, priceMinor: 400, available: true });
  }

  describe("café A's owner using café B's id", () => {
    it('when they rename B, then 404 and B keeps its name', async () => {
      const world = await twoCafes();

      const res = await the.api.patch(`/v1/businesses/${world.b.id}`, { name: 'Taken over' }, { token: world.ownerA.token });

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they list B's members, then 404 without any member", async () => {
      const world = await twoCafes();

      const res = await the.api.get(`/v1/businesses/${world.b.id}/members`, { token: world.ownerA.token });

      expectHidden(res, world);
      expect(res.body).not.to.have.property('data');
    });

    it('when they invite themselves to B as manager, then 404, no invitation exists and they get no role in B', async () => {
      const world = await twoCafes();

      const res = await the.api.post(
        `/v1/businesses/${world.b.id}/invitations`,
        { email: world.ownerA.email, role: 'manager' },
        { token: world.ownerA.token },
      );

      expectHidden(res, world);
      await expectCafeBUntouched(world);
      expect(
        (await the.api.get(`/v1/businesses/${world.b.id}/invitations`, { token: world.ownerB.token })).body.data,
      ).to.deep.equal([]);
      expect((await the.api.get('/v1/invitations', { token: world.ownerA.token })).body.data).to.deep.equal([]);
      expect((await the.api.get(`/v1/businesses/${world.b.id}`, { token: world.ownerA.token })).body.role).to.equal(null);
    });

    it("when they remove B's staff member, then 404 and the member stays", async () => {
      const world = await twoCafes();

      const res = await the.api.delete(`/v1/businesses/${world.b.id}/members/${world.staffB.id}`, { token: world.ownerA.token });

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they remove B's staff member through A's id, then 404 and the member stays in B", async () => {
      const world = await twoCafes();

      const res = await the.api.delete(`/v1/businesses/${world.a.id}/members/${world.staffB.id}`, { token: world.ownerA.token });

      expect(res.status).to.equal(404);
      await expectCafeBUntouched(world);
    });

    it("when they add a product to B's menu, then 404 and the menu is unchanged", async () => {
      const world = await twoCafes();

      const res = await the.api.post(
        `/v1/businesses/${world.b.id}/products`,
        { name: 'Planted', priceMinor: 1 },
        { token: world.ownerA.token },
      );

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they patch B's product under B's id, then 404 and the price is unchanged", async () => {
      const world = await twoCafes();

      const res = await the.api.patch(
        `/v1/businesses/${world.b.id}/products/${world.productB.id}`,
        { priceMinor: 1 },
        { token: world.ownerA.token },
      );

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they patch B's product under A's id, then 404 and the price is unchanged", async () => {
      const world = await twoCafes();

      const res = await the.api.patch(
        `/v1/businesses/${world.a.id}/products/${world.productB.id}`,
        { priceMinor: 1, available: false },
        { token: world.ownerA.token },
      );

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they delete B's product under B's id, then 404 and it stays on the menu", async () => {
      const world = await twoCafes();

      const res = await the.api.delete(`/v1/businesses/${world.b.id}/products/${world.productB.id}`, {
        token: world.ownerA.token,
      });

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it("when they delete B's product under A's id, then 404 and it stays on the menu", async () => {
      const world = await twoCafes();

      const res = await the.api.delete(`/v1/businesses/${world.a.id}/products/${world.productB.id}`, {
        token: world.ownerA.token,
      });

      expectHidden(res, world);
      await expectCafeBUntouched(world);
    });

    it('when they list their cafés, then only A', async () => {
      const world = await twoCafes();

      const res = await the.api.get('/v1/businesses', { token: world.ownerA.token });

      expect(res.body.data.map((b: { id: string }) => b.id)).to.deep.equal([world.a.id]);
    });

    it("when they read B's profile and menu, then only the public view a customer gets, with role null", async () => {
      const world = await twoCafes();

      const profile = await the.api.get(`/v1/businesses/${world.b.id}`, { token: world.ownerA.token });
      const menu = await the.api.get(`/v1/businesses/${world.b.id}/products`, { token: world.ownerA.token });

      expect(profile.status).to.equal(200);
      expect(profile.body.role).to.equal(null);
      expect(JSON.stringify(profile.body)).not.to.include(world.staffB.id);
      expect(menu.status).to.equal(200);
      expect(menu.body.data.map((p: { id: string }) => p.id)).to.deep.equal([world.productB.id]);
    });

    it("when they list B's orders, then 404", async () => {
      const world = await twoCafes();

      const res = await the.api.get(`/v1/businesses/${world.b.id}/orders`, { token: world.ownerA.token });

      expectHidden(res, world);
      expect(res.body).not.to.have.property('data');
    });

    it("when they open B's order stream, then 404 and no stream", async () => {
      const world = await twoCafes();

      const res = await the.api.get(`/v1/businesses/${world.b.id}/orders/stream`, { token: world.ownerA.token });

      expectHidden(res, world);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
    });

    it("when they order B's product from A, then 422 UNKNOWN_PRODUCT", async () => {
      const world = await twoCafes();

      const res = await the.api.post(
        `/v1/businesses/${world.a.id}/orders`,
        { items: [{ productId: world.productB.id, quantity: 1 }] },
        { token: world.ownerA.token, headers: { 'idempotency-key': randomUUID() } },
      );

      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('UNKNOWN_PRODUCT');
      expect(JSON.stringify(res.body)).not.to.include(world.secret);
    });

    describe("with an order placed at B by one of B's customers", () => {
      async function withOrderAtB() {
        const world = await twoCafes();
        const customer = await registerUser(the.api);
        const placed = await the.api.post(
          `/v1/businesses/${world.b.id}/orders`,
          { items: [{ productId: world.productB.id, quantity: 1 }] },
          { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
        );
        expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
        return { ...world, customer, orderId: placed.body.id as string };
      }

      it('when they read the order, then 404', async () => {
        const world = await withOrderAtB();

        const res = await the.api.get(`/v1/orders/${world.orderId}`, { token: world.ownerA.token });

        expectHidden(res, world);
      });

      for (const action of ['accept', 'cancel'] as const) {
        it(`when they ${action} the order, then 404 and it stays pending payment`, async () => {
          const world = await withOrderAtB();

          const res = await the.api.post(`/v1/orders/${world.orderId}/actions/${action}`, {}, { token: world.ownerA.token });

          expectHidden(res, world);
          const order = await the.api.get(`/v1/orders/${world.orderId}`, { token: world.ownerB.token });
          expect(order.body.status).to.equal('pending_payment');
        });
      }

      it("when B's staff reads it, then 200 (the boundary is the café, not the person)", async () => {
        const world = await withOrderAtB();

        const res = await the.api.get(`/v1/orders/${world.orderId}`, { token: world.staffB.token });

        expect(res.status).to.equal(200);
        expect(res.body.businessId).to.equal(world.b.id);
      });
    });
  });

  describe("café B's staff using café A's id", () => {
    it('when they rename A, add to its menu or list its members, then 404 each time and A is untouched', async () => {
      const world = await twoCafes();
      const token = world.staffB.token;

      const responses = [
        await the.api.patch(`/v1/businesses/${world.a.id}`, { name: 'Hijacked' }, { token }),
        await the.api.post(`/v1/businesses/${world.a.id}/products`, { name: 'Planted', priceMinor: 1 }, { token }),
        await the.api.patch(`/v1/businesses/${world.a.id}/products/${world.productA.id}`, { priceMinor: 1 }, { token }),
        await the.api.get(`/v1/businesses/${world.a.id}/members`, { token }),
        await the.api.get(`/v1/businesses/${world.a.id}/orders`, { token }),
      ];

      expect(responses.map((r) => r.status)).to.deep.equal([404, 404, 404, 404, 404]);
      const menu = (await the.api.get(`/v1/businesses/${world.a.id}/products`, { token: world.ownerA.token })).body.data;
      expect(menu.map((p: { id: string; priceMinor: number }) => [p.id, p.priceMinor])).to.deep.equal([[world.productA.id, 300]]);
      expect((await the.api.get(`/v1/businesses/${world.a.id}`, { token: world.ownerA.token })).body.name).to.equal('Café A');
    });
  });

  it('when an id that exists and one that does not are tried, then the answers cannot be told apart', async () => {
    const world = await twoCafes();

    const existing = await the.api.patch(`/v1/businesses/${world.b.id}`, { name: 'x' }, { token: world.ownerA.token });
    const missing = await the.api.patch(`/v1/businesses/${randomUUID()}`, { name: 'x' }, { token: world.ownerA.token });

    expect(existing.status).to.equal(missing.status);
    expect(existing.body).to.deep.equal(missing.body);
  });

  it('when a user has no café at all, then every member-only route of a real café answers 404', async () => {
    const world = await twoCafes();
    const stranger = await registerUser(the.api);
    const token = stranger.token;

    const statuses = [
      (await the.api.patch(`/v1/businesses/${world.b.id}`, { name: 'x' }, { token })).status,
      (await the.api.get(`/v1/businesses/${world.b.id}/members`, { token })).status,
      (await the.api.post(`/v1/businesses/${world.b.id}/invitations`, { email: stranger.email, role: 'staff' }, { token }))
        .status,
      (await the.api.delete(`/v1/businesses/${world.b.id}/members/${world.staffB.id}`, { token })).status,
      (await the.api.post(`/v1/businesses/${world.b.id}/products`, { name: 'x', priceMinor: 1 }, { token })).status,
      (await the.api.patch(`/v1/businesses/${world.b.id}/products/${world.productB.id}`, { priceMinor: 1 }, { token })).status,
      (await the.api.delete(`/v1/businesses/${world.b.id}/products/${world.productB.id}`, { token })).status,
      (await the.api.get(`/v1/businesses/${world.b.id}/orders`, { token })).status,
    ];

    expect(statuses).to.deep.equal([404, 404, 404, 404, 404, 404, 404, 404]);
    await expectCafeBUntouched(world);
  });
});
