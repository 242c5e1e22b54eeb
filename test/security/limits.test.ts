import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient, type HttpResult } from '../support/http';
import { eventually, openCafe, pay, placeOrder, type Cafe } from '../support/orders';
import { injectApiFault, postWebhook } from '../support/payments';
import { startStack, type TestStack } from '../support/stack';
import { send } from './support/probe';

/**
 * What the API does about volume: bodies past the limit, password guessing, request floods; and
 * what it keeps out of its logs while doing everything else.
 */
const MAX_FAILURES = 3;
const LOCK_SECONDS = 600;
const RATE_LIMIT = 40;
// The default BODY_LIMIT: these tests prove what production gets.
const BODY_LIMIT_BYTES = 100 * 1024;

describe('security: limits', () => {
  let stack: TestStack;
  let api: HttpClient;
  let ip: string;

  before(async () => {
    stack = await startStack({
      name: 'limits',
      env: {
        TRUST_PROXY: 'true',
        RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
        LOGIN_MAX_FAILURES: String(MAX_FAILURES),
        LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
        LOG_LEVEL: 'trace',
      },
    });
  });
  // Rate limit and login locks are per address: each test is a client of its own.
  beforeEach(() => {
    ip = uniqueClientIp();
    api = httpClient(stack.baseUrl, { 'x-forwarded-for': ip });
  });
  after(() => stack?.stop());

  const fromNewIp = () => httpClient(stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  const login = (client: HttpClient, user: { email: string; password: string }) =>
    client.post('/v1/auth/login', { email: user.email, password: user.password });

  async function rowCounts() {
    const tables = ['users', 'businesses', 'memberships', 'products', 'orders', 'webhook_notifications'];
    const counts = await Promise.all(tables.map((table) => stack.db(table).count({ n: '*' })));
    return Object.fromEntries(tables.map((table, i) => [table, Number(counts[i]![0]!.n)]));
  }

  function expectTooLarge(res: { status: number; json?: unknown; body?: unknown }, what: string) {
    expect(res.status, what).to.equal(413);
    expect(((res.json ?? res.body) as { error: { code: string } }).error.code, what).to.equal('PAYLOAD_TOO_LARGE');
  }

  describe('body size', () => {
    /** Every route that reads a body, with the token and ids it needs; the webhook too, which takes any JSON. */
    function bodyRoutes(cafe: Cafe, orderId: string, staff: TestUser) {
      const owner = { authorization: `Bearer ${cafe.owner.token}` };
      return [
        { path: '/v1/auth/register', headers: {} },
        { path: '/v1/auth/login', headers: {} },
        { path: '/v1/auth/refresh', headers: {} },
        { path: '/v1/auth/logout', headers: {} },
        { path: '/v1/businesses', headers: owner },
        { path: `/v1/businesses/${cafe.id}`, method: 'PATCH', headers: owner },
        { path: `/v1/businesses/${cafe.id}/members`, headers: owner },
        { path: `/v1/businesses/${cafe.id}/products`, headers: owner },
        { path: `/v1/businesses/${cafe.id}/products/${cafe.products[0]!.id}`, method: 'PATCH', headers: owner },
        { path: `/v1/businesses/${cafe.id}/orders`, headers: { ...owner, 'idempotency-key': randomUUID() } },
        { path: `/v1/orders/${orderId}/actions/cancel`, headers: { authorization: `Bearer ${staff.token}` } },
        { path: '/v1/webhooks/mercadopago?topic=payment&id=1', headers: {} },
      ];
    }

    it('when a body over the 100 kB default reaches any route that reads one, the webhook included, then 413 PAYLOAD_TOO_LARGE and nothing is stored', async () => {
      const cafe = await openCafe(api);
      const customer = await registerUser(api);
      const order = await placeOrder(api, customer, cafe);
      const before = await rowCounts();
      const body = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES + 1024) });

      for (const route of bodyRoutes(cafe, order.id, cafe.owner)) {
        const res = await send(stack.baseUrl, {
          method: route.method ?? 'POST',
          path: route.path,
          headers: { ...route.headers, 'content-type': 'application/json', 'x-forwarded-for': uniqueClientIp() },
          body,
        });
        expectTooLarge(res, route.path);
      }

      expect(await rowCounts()).to.deep.equal(before);
      expect((await api.get(`/v1/orders/${order.id}`, { token: customer.token })).body.status).to.equal('pending_payment');
    });

    it('when an oversized body comes chunked, with no Content-Length to refuse it by, then 413 all the same, on a connection closed cleanly', async () => {
      for (const path of ['/v1/auth/register', '/v1/webhooks/mercadopago?topic=payment&id=1']) {
        const chunk = new TextEncoder().encode(`"${'y'.repeat(16 * 1024)}",`);
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name":['));
            if (sent > BODY_LIMIT_BYTES * 2) {
              controller.enqueue(new TextEncoder().encode('""]}'));
              controller.close();
              return;
            }
            controller.enqueue(chunk);
            sent += chunk.length;
          },
        });
        const res = await fetch(`${stack.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
          body: stream,
          duplex: 'half',
        } as RequestInit & { duplex: 'half' });

        expectTooLarge({ status: res.status, json: await res.json() }, path);
        // The rest of the upload is never read, so the socket cannot serve another request.
        expect(res.headers.get('connection'), path).to.equal('close');
        const next = await fetch(`${stack.baseUrl}/health`);
        expect(next.status, 'the next request of the same client').to.equal(200);
      }
    });

    it('when a small gzip body inflates past the limit (a decompression bomb), then 413 and not a byte more is read', async () => {
      const bomb = gzipSync(JSON.stringify({ name: '0'.repeat(10 * 1024 * 1024) }));
      expect(bomb.length).to.be.below(BODY_LIMIT_BYTES / 4);

      for (const path of ['/v1/auth/register', '/v1/webhooks/mercadopago?topic=payment&id=1']) {
        const res = await fetch(`${stack.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-forwarded-for': ip },
          body: bomb,
        });

        expectTooLarge({ status: res.status, json: await res.json() }, path);
      }
    });

    it('when a body just under the limit is sent, then it is read and judged on what it says (400), not on its size', async () => {
      const res = await api.post('/v1/auth/register', {
        email: `big-${randomUUID()}@example.test`,
        password: 'long enough password',
        name: 'n'.repeat(BODY_LIMIT_BYTES - 1024),
      });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['name']);
    });
  });

  describe('password guessing', () => {
    function expectLocked(res: HttpResult, what: string) {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(429);
      expect(res.body.error.code, what).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
      expect(Number(res.headers.get('retry-after')), what).to.be.within(1, LOCK_SECONDS);
      expect(res.body).not.to.have.property('accessToken');
    }

    it(`when a burst of wrong passwords hits one account from one address, then only ${MAX_FAILURES} are checked, the rest get 429, and the owner elsewhere still gets in`, async () => {
      const user = await registerUser(api);

      const burst = await Promise.all(
        Array.from({ length: 12 }, (_, i) => login(api, { email: user.email, password: `guess-${i}-password` })),
      );

      const statuses = burst.map((res) => res.status);
      expect(
        statuses.filter((status) => status === 401),
        statuses.join(','),
      ).to.have.length(MAX_FAILURES);
      expect(
        statuses.filter((status) => status === 429),
        statuses.join(','),
      ).to.have.length(12 - MAX_FAILURES);
      expectLocked(await login(api, user), 'the right password from the guessing address');
      expect((await login(fromNewIp(), user)).status, 'the owner from another address').to.equal(200);
    });

    it('when a guessing address is throttled, then the right and a wrong password get the same 429 with Retry-After, so the throttle tells a guesser nothing', async () => {
      const user = await registerUser(api);
      for (let i = 0; i < MAX_FAILURES; i++) {
        expect((await login(api, { email: user.email, password: `wrong-${i}-password` })).status).to.equal(401);
      }

      const right = await login(api, user);
      const wrong = await login(api, { email: user.email, password: 'another wrong one' });
      const shouted = await login(api, { email: user.email.toUpperCase(), password: user.password });

      expectLocked(right, 'right password');
      expectLocked(wrong, 'wrong password');
      expectLocked(shouted, 'the email in capitals');
      expect(right.body).to.deep.equal(wrong.body);
    });

    it('when wrong passwords for one account come from many addresses, then none of them locks the account for its owner', async () => {
      const user = await registerUser(api);
      const spread = await Promise.all(
        Array.from({ length: 12 }, (_, i) => login(fromNewIp(), { email: user.email, password: `spread-${i}-password` })),
      );
      expect(spread.map((res) => res.status)).to.deep.equal(spread.map(() => 401));
      expect((await login(fromNewIp(), user)).status).to.equal(200);
    });

    it(`when one address fails ${MAX_FAILURES} times across other accounts, then a right password from it still gets in: a shared address is not locked out`, async () => {
      const victim = await registerUser(fromNewIp());
      for (let i = 0; i < MAX_FAILURES; i++) {
        const guess = await login(api, { email: `nobody-${randomUUID()}@example.test`, password: 'password123' });
        expect(guess.status).to.equal(401);
      }

      expect((await login(api, victim)).status, 'right password from the same address').to.equal(200);
    });
  });

  describe('request rate', () => {
    it(`when a client goes past ${RATE_LIMIT} requests a minute, then 429 RATE_LIMITED with Retry-After, and the refused request does nothing`, async () => {
      for (let i = 0; i < RATE_LIMIT - 1; i++) expect((await api.get('/v1/me')).status).to.equal(401);
      const before = await rowCounts();
      const lastAllowed = await api.post('/v1/auth/register', {
        email: `last-${randomUUID()}@example.test`,
        password: 'long enough password',
        name: 'Last',
      });

      const refused = await api.post('/v1/auth/register', {
        email: `over-${randomUUID()}@example.test`,
        password: 'long enough password',
        name: 'Over',
      });

      expect(lastAllowed.status).to.equal(201);
      expect(refused.status).to.equal(429);
      expect(refused.body).to.deep.equal({ error: { code: 'RATE_LIMITED', message: refused.body.error.message } });
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
      expect(refused.headers.get('ratelimit-remaining')).to.equal('0');
      expect((await rowCounts()).users).to.equal(before.users! + 1);
    });
  });

  it('when a whole flow has run (register, failed and good logins, refresh, an order, payments and webhooks, logout), then no log line holds a password, token or secret', async function () {
    this.timeout(60_000);
    const owner = await registerUser(api, 'Owner');
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const wrongPassword = `wrong-${randomUUID()}`;
    expect((await login(api, { email: customer.email, password: wrongPassword })).status).to.equal(401);
    const session = await login(api, customer);
    expect(session.status).to.equal(200);
    const rotated = await api.post('/v1/auth/refresh', { refreshToken: session.body.refreshToken });
    expect(rotated.status).to.equal(200);
    const shopper = { ...customer, token: rotated.body.accessToken as string };
    // One failed call to the provider, so its error path is logged too.
    await injectApiFault(stack, { status: 500, times: 1, method: 'POST', pathPattern: '^/checkout/preferences' });
    const order = await placeOrder(api, shopper, cafe);
    await pay(stack, order.payment.preferenceId);
    // Polled in the database: polling through the API would spend this client's rate limit.
    await eventually(
      () => stack.db('orders').where({ id: order.id }).first(),
      (row) => row?.status === 'paid',
    );
    expect((await postWebhook(stack, api, { dataId: String(Date.now()), type: 'merchant_order_x' })).response.status).to.equal(
      200,
    );
    expect((await postWebhook(stack, api, { dataId: '12345', signature: 'forged' })).response.status).to.equal(401);
    expect((await api.post('/v1/auth/logout', { refreshToken: rotated.body.refreshToken })).status).to.equal(204);

    const tokens = [owner, customer, cafe.owner].flatMap((user) => [user.token, user.refreshToken]);
    tokens.push(session.body.accessToken, session.body.refreshToken, rotated.body.accessToken, rotated.body.refreshToken);
    const secrets: Record<string, string> = {
      'owner password': owner.password,
      'café owner password': cafe.owner.password,
      'customer password': customer.password,
      'wrong password': wrongPassword,
      'webhook secret': stack.emulator.webhookSecret,
      'MercadoPago access token': stack.config.mercadopago.accessToken as string,
      'JWT secret': stack.config.auth.jwtSecret,
      ...Object.fromEntries(tokens.map((token, i) => [`token ${i}`, token])),
      // A token cut short in a log line still gives its signature away.
      ...Object.fromEntries(
        tokens.filter((token) => token.includes('.')).map((token, i) => [`JWT signature ${i}`, token.split('.')[2]!]),
      ),
    };
    const lines = stack.logs.lines;
    expect(
      lines.some((line) => line.includes(customer.id)),
      'the flow was logged',
    ).to.equal(true);
    expect(
      lines.some((line) => line.includes('login_failed')),
      'the failed login was logged',
    ).to.equal(true);
    expect(
      lines.some((line) => line.includes('webhook_rejected')),
      'the forged webhook was logged',
    ).to.equal(true);

    const leaks = Object.entries(secrets).flatMap(([name, secret]) =>
      lines.filter((line) => line.includes(secret)).map((line) => `${name} in: ${line.slice(0, 300)}`),
    );
    expect(leaks).to.deep.equal([]);
  });
});

describe('security: limits without a trusted proxy', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startStack({ name: 'limits-direct', withWorker: false, env: { RATE_LIMIT_PER_MINUTE: '5' } });
  });
  after(() => stack?.stop());

  it('when a client changes X-Forwarded-For on every request, then it is still one client to the rate limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await httpClient(stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() }).get('/v1/me');
      statuses.push(res.status);
    }

    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
  });
});
