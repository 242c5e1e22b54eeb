import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  addProduct,
  createCafe,
  registerUser,
  type TestUser,
  cafeWithCast as fixtureCafeWithCast,
  type Role,
} from '../support/fixtures';
import { useOrderStack } from '../support/use-stack';

describe('products', () => {
  const the = useOrderStack({
    name: 'products',
    withWorker: false,
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
    cafe: false,
    customer: false,
  });

  const cafeWithCast = () => fixtureCafeWithCast(the.api);

  const productsOf = (businessId: string, user: TestUser, query = '') =>
    the.api.get(`/v1/businesses/${businessId}/products${query}`, { token: user.token });

  describe('create', () => {
    it('when the owner adds a product, then 201 with the price in minor units and the café currency', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner, { currency: 'BRL' });

      const res = await the.api.post(
        `/v1/businesses/${cafe.id}/products`,
        { name: 'Flat white', description: 'Double ristretto', category: 'Coffee', priceMinor: 450 },
        { token: owner.token },
      );

      expect(res.status).to.equal(201);
      expect(res.body).to.include({
        businessId: cafe.id,
        name: 'Flat white',
        description: 'Double ristretto',
        category: 'Coffee',
        priceMinor: 450,
        currency: 'BRL',
        available: true,
      });
      expect(res.body).not.to.have.property('deletedAt');
    });

    it('when the price is zero, then it is accepted (a free glass of water)', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);

      const product = await addProduct(the.api, owner, cafe.id, { priceMinor: 0 });

      expect(product.priceMinor).to.equal(0);
    });

    for (const [what, priceMinor] of [
      ['a float', 3.5],
      ['negative', -100],
      ['a numeric string', '350'],
      ['above the cap', 100_000_001],
      ['null', null],
    ] as const) {
      it(`when the price is ${what}, then 400 VALIDATION_FAILED on priceMinor`, async () => {
        const owner = await registerUser(the.api);
        const cafe = await createCafe(the.api, owner);

        const res = await the.api.post(`/v1/businesses/${cafe.id}/products`, { name: 'Odd', priceMinor }, { token: owner.token });

        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        expect(res.body.error.message).to.be.a('string');
        expect(res.body.error.details).to.be.an('array');
        expect(res.body.error.details[0]).to.include({ in: 'body', path: 'priceMinor' });
        expect((await productsOf(cafe.id, owner)).body.data).to.deep.equal([]);
      });
    }

    it('when the name is missing and an unknown field is sent, then both are reported', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);

      const res = await the.api.post(
        `/v1/businesses/${cafe.id}/products`,
        { priceMinor: 100, colour: 'brown' },
        { token: owner.token },
      );

      expect(res.status).to.equal(400);
      expect(res.body.error.details).to.have.length(2);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.include('name');
    });

    const expected: Record<Role, number> = { owner: 201, manager: 201, staff: 403, customer: 404 };
    for (const [role, status] of Object.entries(expected) as [Role, number][]) {
      it(`when the ${role} adds a product, then ${status}`, async () => {
        const { cafe, cast } = await cafeWithCast();

        const res = await the.api.post(
          `/v1/businesses/${cafe.id}/products`,
          { name: `By ${role}`, priceMinor: 100 },
          { token: cast[role].token },
        );

        expect(res.status).to.equal(status);
        const names = (await productsOf(cafe.id, cast.owner)).body.data.map((p: { name: string }) => p.name);
        expect(names).to.deep.equal(status === 201 ? [`By ${role}`] : []);
      });
    }

    it('when the café does not exist, then 404', async () => {
      const user = await registerUser(the.api);

      const res = await the.api.post(
        `/v1/businesses/${randomUUID()}/products`,
        { name: 'x', priceMinor: 1 },
        { token: user.token },
      );

      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('NOT_FOUND');
    });
  });

  describe('list', () => {
    it('when anyone signed in reads the menu, then the live products sorted by category and name', async () => {
      const owner = await registerUser(the.api);
      const customer = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);
      await addProduct(the.api, owner, cafe.id, { name: 'Medialuna', category: 'Bakery', priceMinor: 150 });
      await addProduct(the.api, owner, cafe.id, { name: 'Cortado', category: 'Coffee', priceMinor: 300 });
      await addProduct(the.api, owner, cafe.id, { name: 'Alfajor', category: 'Bakery', priceMinor: 200 });

      const res = await productsOf(cafe.id, customer);

      expect(res.status).to.equal(200);
      expect(res.body.data.map((p: { name: string }) => p.name)).to.deep.equal(['Alfajor', 'Medialuna', 'Cortado']);
      expect(res.body.data.every((p: { currency: string }) => p.currency === 'ARS')).to.equal(true);
    });

    it('when available=true is asked, then unavailable products are left out', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);
      const shown = await addProduct(the.api, owner, cafe.id, { available: true });
      await addProduct(the.api, owner, cafe.id, { available: false });

      const res = await productsOf(cafe.id, owner, '?available=true');

      expect(res.status).to.equal(200);
      expect(res.body.data.map((p: { id: string }) => p.id)).to.deep.equal([shown.id]);
      expect((await productsOf(cafe.id, owner)).body.data).to.have.length(2);
    });

    it('when the query has an unknown parameter, then 400 VALIDATION_FAILED on the query', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);

      const res = await productsOf(cafe.id, owner, '?sort=price');

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details[0]).to.include({ in: 'query' });
    });

    it('when the café does not exist, then 404', async () => {
      const user = await registerUser(the.api);

      const res = await productsOf(randomUUID(), user);

      expect(res.status).to.equal(404);
    });
  });

  describe('update', () => {
    it('when the manager changes the price and availability, then both change and nothing else', async () => {
      const { cafe, cast } = await cafeWithCast();
      const product = await addProduct(the.api, cast.owner, cafe.id, { name: 'Lágrima', category: 'Coffee', priceMinor: 280 });

      const res = await the.api.patch(
        `/v1/businesses/${cafe.id}/products/${product.id}`,
        { priceMinor: 320, available: false },
        { token: cast.manager.token },
      );

      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: product.id, name: 'Lágrima', category: 'Coffee', priceMinor: 320, available: false });
      expect(res.body.currency).to.equal('ARS');
      expect(new Date(res.body.updatedAt).getTime()).to.be.greaterThan(new Date(res.body.createdAt).getTime());
    });

    it('when the patched price is a float, then 400 and the price is unchanged', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);
      const product = await addProduct(the.api, owner, cafe.id, { priceMinor: 500 });

      const res = await the.api.patch(
        `/v1/businesses/${cafe.id}/products/${product.id}`,
        { priceMinor: 4.99 },
        { token: owner.token },
      );

      expect(res.status).to.equal(400);
      expect(res.body.error.details[0]).to.include({ path: 'priceMinor' });
      expect((await productsOf(cafe.id, owner)).body.data[0].priceMinor).to.equal(500);
    });

    it('when the patch is empty, then 400 VALIDATION_FAILED', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);
      const product = await addProduct(the.api, owner, cafe.id);

      const res = await the.api.patch(`/v1/businesses/${cafe.id}/products/${product.id}`, {}, { token: owner.token });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    });

    it('when the product does not exist, then 404', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);

      const res = await the.api.patch(
        `/v1/businesses/${cafe.id}/products/${randomUUID()}`,
        { priceMinor: 1 },
        { token: owner.token },
      );

      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('NOT_FOUND');
    });

    const expected: Record<Role, number> = { owner: 200, manager: 200, staff: 403, customer: 404 };
    for (const [role, status] of Object.entries(expected) as [Role, number][]) {
      it(`when the ${role} changes a price, then ${status}`, async () => {
        const { cafe, cast } = await cafeWithCast();
        const product = await addProduct(the.api, cast.owner, cafe.id, { priceMinor: 100 });

        const res = await the.api.patch(
          `/v1/businesses/${cafe.id}/products/${product.id}`,
          { priceMinor: 999 },
          { token: cast[role].token },
        );

        expect(res.status).to.equal(status);
        const price = (await productsOf(cafe.id, cast.owner)).body.data[0].priceMinor;
        expect(price).to.equal(status === 200 ? 999 : 100);
      });
    }
  });

  describe('delete', () => {
    it('when the owner deletes a product, then 204, it leaves the menu and can no longer be changed', async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);
      const product = await addProduct(the.api, owner, cafe.id);
      const kept = await addProduct(the.api, owner, cafe.id);

      const res = await the.api.delete(`/v1/businesses/${cafe.id}/products/${product.id}`, { token: owner.token });

      expect(res.status).to.equal(204);
      expect((await productsOf(cafe.id, owner)).body.data.map((p: { id: string }) => p.id)).to.deep.equal([kept.id]);
      const patch = await the.api.patch(
        `/v1/businesses/${cafe.id}/products/${product.id}`,
        { priceMinor: 1 },
        { token: owner.token },
      );
      expect(patch.status).to.equal(404);
      const again = await the.api.delete(`/v1/businesses/${cafe.id}/products/${product.id}`, { token: owner.token });
      expect(again.status).to.equal(404);
    });

    const expected: Record<Role, number> = { owner: 204, manager: 204, staff: 403, customer: 404 };
    for (const [role, status] of Object.entries(expected) as [Role, number][]) {
      it(`when the ${role} deletes a product, then ${status}`, async () => {
        const { cafe, cast } = await cafeWithCast();
        const product = await addProduct(the.api, cast.owner, cafe.id);

        const res = await the.api.delete(`/v1/businesses/${cafe.id}/products/${product.id}`, { token: cast[role].token });

        expect(res.status).to.equal(status);
        expect((await productsOf(cafe.id, cast.owner)).body.data).to.have.length(status === 204 ? 0 : 1);
      });
    }
  });
});
