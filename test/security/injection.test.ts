import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { addMember, createCafe, registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient, type HttpResult } from '../support/http';
import { act, openCafe, orderWithStatus } from '../support/orders';
import { useOrderStack } from '../support/use-stack';
import { injections, type Fate } from './support/hostile';
import { send } from './support/probe';

/**
 * Injection strings in every free-text field a client controls. Each one is either refused with a
 * 400 or stored and handed back exactly as sent, and the tables keep exactly the rows they should.
 */

const TABLES = [
  'users',
  'refresh_tokens',
  'businesses',
  'memberships',
  'invitations',
  'products',
  'orders',
  'order_items',
  'order_events',
];

describe('security: injection through every free-text field', () => {
  const the = useOrderStack({
    name: 'injection',
    env: { RATE_LIMIT_PER_MINUTE: '100000', TRUST_PROXY: 'true' },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;

  // Failed logins lock the client's address: every test is a client of its own.
  beforeEach(() => {
    api = httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  });

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const table of TABLES) {
      const [row] = await the.stack.db(table).count({ n: '*' });
      result[table] = Number(row!.n);
    }
    return result;
  }

  /** Runs `attempt`, then checks the tables grew by exactly `expected` rows and no others changed. */
  async function expectRowsAdded(expected: Partial<Record<string, number>>, attempt: () => Promise<void>) {
    const before = await counts();
    await attempt();
    const after = await counts();
    const added = Object.fromEntries(TABLES.map((table) => [table, after[table]! - before[table]!]));
    expect(added).to.deep.equal(Object.fromEntries(TABLES.map((table) => [table, expected[table] ?? 0])));
  }

  function expectFate(res: HttpResult, fate: Fate, okStatus: number, what: string) {
    if (fate === 'refused') {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    } else {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(okStatus);
    }
  }

  describe('registration', () => {
    for (const [what, value, fate] of injections(120)) {
      it(`when the name is ${what}, then ${fate === 'stored' ? 'it is stored and returned verbatim' : '400'}, and only that account is added`, async () => {
        const email = `inj-${randomUUID()}@example.test`;
        let res!: HttpResult;
        await expectRowsAdded(fate === 'stored' ? { users: 1, refresh_tokens: 1 } : {}, async () => {
          res = await api.post('/v1/auth/register', { email, password: 'long enough password', name: value });
        });

        expectFate(res, fate, 201, 'register');
        if (fate === 'stored') {
          expect(res.body.user.name).to.equal(value);
          expect((await api.get('/v1/me', { token: res.body.accessToken })).body.name).to.equal(value);
        }
      });
    }

    for (const [what, value, fate] of injections(128).filter(([, v]) => v.length >= 10)) {
      it(`when the password is ${what}, then ${fate === 'stored' ? 'that exact password signs in and a near miss does not' : '400'}`, async () => {
        const email = `inj-${randomUUID()}@example.test`;

        const res = await api.post('/v1/auth/register', { email, password: value, name: 'Pat' });

        expectFate(res, fate, 201, 'register');
        if (fate === 'stored') {
          expect((await api.post('/v1/auth/login', { email, password: value })).status).to.equal(200);
          const nearMiss = ['x', ...Array.from(value).slice(1)].join('');
          expect((await api.post('/v1/auth/login', { email, password: nearMiss })).status).to.equal(401);
        }
      });
    }

    it('when the email is an injection, then 400 for those that are no email and a verbatim round trip for one that is', async () => {
      for (const email of [
        "' OR 1=1 --",
        '"; DROP TABLE users; --@example.test',
        '{"$gt": ""}',
        `a\u0000b-${randomUUID()}@example.test`,
      ]) {
        await expectRowsAdded({}, async () => {
          const res = await api.post('/v1/auth/register', { email, password: 'long enough password', name: 'Eve' });
          expect(res.status, email).to.equal(400);
        });
      }
      const quoted = `o'or'1'--${randomUUID()}@example.test`;

      const res = await api.post('/v1/auth/register', { email: quoted, password: 'long enough password', name: 'Quote' });

      expect(res.status).to.equal(201);
      expect(res.body.user.email).to.equal(quoted);
      expect((await api.post('/v1/auth/login', { email: quoted, password: 'long enough password' })).body.user.id).to.equal(
        res.body.user.id,
      );
      expect((await api.post('/v1/auth/login', { email: "' OR '1'='1", password: "' OR '1'='1" })).status).to.equal(400);
    });
  });

  describe('cafés and menus', () => {
    for (const [what, value, fate] of injections(120)) {
      it(`when a café's name is ${what}, then ${fate === 'stored' ? 'it round-trips on create and rename' : '400 on create and rename'}`, async () => {
        const owner = await registerUser(api);
        let created!: HttpResult;
        await expectRowsAdded(fate === 'stored' ? { businesses: 1, memberships: 1 } : {}, async () => {
          created = await api.post('/v1/businesses', { name: value, currency: 'ARS', timeZone: 'UTC' }, { token: owner.token });
        });
        expectFate(created, fate, 201, 'create');
        const cafe = fate === 'stored' ? created.body : await createCafe(api, owner);

        const renamed = await api.patch(`/v1/businesses/${cafe.id}`, { name: value }, { token: owner.token });

        expectFate(renamed, fate, 200, 'rename');
        const profile = await api.get(`/v1/businesses/${cafe.id}`, { token: owner.token });
        if (fate === 'stored') expect(profile.body.name).to.equal(value);
        else expect(profile.body.name).to.equal('Café Test');
      });
    }

    for (const [field, max] of [
      ['name', 120],
      ['description', 1000],
      ['category', 60],
    ] as const) {
      it(`when a product's ${field} carries each injection, then every one is refused with 400 or read back verbatim from the menu`, async () => {
        const owner = await registerUser(api);
        const cafe = await createCafe(api, owner);
        for (const [what, value, fate] of injections(max)) {
          let res!: HttpResult;
          await expectRowsAdded(fate === 'stored' ? { products: 1 } : {}, async () => {
            res = await api.post(
              `/v1/businesses/${cafe.id}/products`,
              { name: 'Lágrima', priceMinor: 300, [field]: value },
              { token: owner.token },
            );
          });
          expectFate(res, fate, 201, what);
          if (fate === 'stored') {
            const menu = await api.get(`/v1/businesses/${cafe.id}/products`, { token: owner.token });
            const product = menu.body.data.find((p: { id: string }) => p.id === res.body.id);
            expect(product?.[field], what).to.equal(value);
          }
        }
      });
    }
  });

  describe('orders', () => {
    it('when notes, pickup name and cancel reason carry each injection, then each is refused with 400 or read back verbatim from the order', async function () {
      this.timeout(120_000);
      const cafe = await openCafe(api);
      const customer = await registerUser(api);
      const cases = injections(80).filter(([, value]) => value.trim() === value && value !== '');
      for (const [what, value, fate] of cases) {
        const body = {
          items: [{ productId: cafe.products[0]!.id, quantity: 1 }],
          notes: value,
          pickupName: value,
        };
        let res!: HttpResult;
        await expectRowsAdded(fate === 'stored' ? { orders: 1, order_items: 1, order_events: 1 } : {}, async () => {
          res = await api.post(`/v1/businesses/${cafe.id}/orders`, body, {
            token: customer.token,
            headers: { 'idempotency-key': randomUUID() },
          });
        });
        expectFate(res, fate, 201, what);
        if (fate === 'refused') continue;
        expect(res.body).to.include({ notes: value, pickupName: value });

        const cancelled = await act(api, customer, res.body.id, 'cancel', { reason: value });

        expect(cancelled.status, `${what}: ${JSON.stringify(cancelled.body)}`).to.equal(200);
        const order = await orderWithStatus(api, customer, res.body.id, 'cancelled');
        expect(order, what).to.include({ notes: value, pickupName: value, cancelReason: value });
      }
    });

    it('when a cancel reason is NUL, an unpaired surrogate or too long, then 400 and the order stays pending payment', async () => {
      const cafe = await openCafe(api);
      const customer = await registerUser(api);
      const placed = await api.post(
        `/v1/businesses/${cafe.id}/orders`,
        { items: [{ productId: cafe.products[0]!.id, quantity: 1 }] },
        { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
      );
      expect(placed.status).to.equal(201);

      for (const reason of ['no\u0000pe', 'no\udc00pe', 'x'.repeat(501)]) {
        const res = await act(api, customer, placed.body.id, 'cancel', { reason });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
      }

      expect((await api.get(`/v1/orders/${placed.body.id}`, { token: customer.token })).body.status).to.equal('pending_payment');
    });
  });

  describe('members', () => {
    it('when someone is invited by an injection email, then 400 if it is no email, else 201 with only an invitation stored verbatim, and nobody joins', async () => {
      const owner = await registerUser(api);
      const cafe = await createCafe(api, owner);
      await registerUser(api, 'Bystander');

      for (const [email, status] of [
        ["' OR 1=1 --", 400],
        ['"; DROP TABLE users; --', 400],
        ['{"$gt": ""}', 400],
        [`x\u0000@example.test`, 400],
        ["x'or'1'--@example.test", 201],
        ["admin'--@example.test", 201],
      ] as const) {
        await expectRowsAdded(status === 201 ? { invitations: 1 } : {}, async () => {
          const res = await api.post(`/v1/businesses/${cafe.id}/invitations`, { email, role: 'staff' }, { token: owner.token });
          expect(res.status, `${email}: ${JSON.stringify(res.body)}`).to.equal(status);
          if (status === 201) expect(res.body).to.include({ email, role: 'staff', status: 'pending' });
          else expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        });
      }
      const members = await api.get(`/v1/businesses/${cafe.id}/members`, { token: owner.token });
      expect(members.body.data.map((m: { userId: string }) => m.userId)).to.deep.equal([owner.id]);
    });

    it('when someone registered with quotes in their email is added, then they join under exactly that email', async () => {
      const owner = await registerUser(api);
      const cafe = await createCafe(api, owner);
      const email = `o'brien--${randomUUID().slice(0, 8)}@example.test`;
      const quoted = await api.post('/v1/auth/register', { email, password: 'long enough password', name: "O'Brien" });
      expect(quoted.status, JSON.stringify(quoted.body)).to.equal(201);
      const member = { ...quoted.body.user, token: quoted.body.accessToken } as TestUser;

      await expectRowsAdded({ memberships: 1, invitations: 1 }, () => addMember(api, owner, cafe.id, member, 'staff'));

      const members = await api.get(`/v1/businesses/${cafe.id}/members`, { token: owner.token });
      expect(members.body.data.find((m: { userId: string }) => m.userId === member.id)).to.include({
        email,
        name: "O'Brien",
        role: 'staff',
      });
    });
  });

  describe('prototype pollution', () => {
    const payloads = [
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"a":{"b":{"__proto__":{"polluted":"yes"}}}}',
      '{"name":"x","__proto__":{"isAdmin":true,"polluted":"yes"}}',
      '[{"__proto__":{"polluted":"yes"}}]',
    ];

    it('when every route with a body gets __proto__ or constructor.prototype at any depth, then it is refused and Object.prototype stays clean', async () => {
      const cafe = await openCafe(api);
      const token = cafe.owner.token;
      const targets: { path: string; headers: Record<string, string> }[] = [
        { path: '/v1/auth/register', headers: {} },
        { path: '/v1/auth/login', headers: {} },
        { path: '/v1/businesses', headers: { authorization: `Bearer ${token}` } },
        { path: `/v1/businesses/${cafe.id}/products`, headers: { authorization: `Bearer ${token}` } },
        {
          path: `/v1/businesses/${cafe.id}/orders`,
          headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
        },
      ];

      for (const target of targets) {
        for (const body of payloads) {
          const res = await send(the.stack.baseUrl, {
            method: 'POST',
            path: target.path,
            headers: { ...target.headers, 'content-type': 'application/json' },
            body,
          });
          expect(res.status, `${target.path} ${body}: ${res.text}`).to.equal(400);
          expect(({} as Record<string, unknown>).polluted, `${target.path} ${body}`).to.equal(undefined);
          expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
        }
      }
    });

    it('when the webhook, which takes any JSON, gets the same bodies, then __proto__ is refused, the rest is data, and Object.prototype stays clean', async () => {
      for (const body of payloads) {
        const res = await send(the.stack.baseUrl, {
          method: 'POST',
          // An IPN of a topic we do not handle: answered without starting any processing.
          path: `/v1/webhooks/mercadopago?topic=subscription&id=${Date.now()}`,
          headers: { 'content-type': 'application/json' },
          body,
        });
        const expected = body.includes('__proto__') ? 400 : 200;
        expect(res.status, `${body}: ${res.text}`).to.equal(expected);
        expect(({} as Record<string, unknown>).polluted, body).to.equal(undefined);
      }
    });

    it('when the query string carries __proto__ and constructor keys, then nothing is polluted and the answer is a plain 4xx or the data', async () => {
      const cafe = await openCafe(api);
      for (const query of [
        '__proto__[polluted]=yes',
        '__proto__.polluted=yes',
        'constructor[prototype][polluted]=yes',
        '__proto__=x',
      ]) {
        const res = await api.get(`/v1/businesses/${cafe.id}/products?${query}`, { token: cafe.owner.token });
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_FAILED');
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      }
    });
  });
});
