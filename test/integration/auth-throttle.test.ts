import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createAuthService } from '../../api/auth/auth-service';
import { createLoginThrottle } from '../../api/auth/login-throttle';
import { createDb, type Db } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient, type HttpResult } from '../support/http';
import { useOrderStack } from '../support/use-stack';

/**
 * The limits beside the per-(account, address) one: progressive delays, the per-address and
 * per-account ceilings, the way in an owner keeps, and counting that holds across replicas.
 */
const MAX_FAILURES = 3;
const DELAY_SECONDS = 3;
const IP_MAX_FAILURES = 8;
const ACCOUNT_MAX_FAILURES = 6;
const LOCK_SECONDS = 600;

describe('auth: login throttle', () => {
  const the = useOrderStack({
    name: 'auth-throttle',
    withWorker: false,
    env: {
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      LOGIN_DELAY_SECONDS: String(DELAY_SECONDS),
      LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
      LOGIN_IP_MAX_FAILURES: String(IP_MAX_FAILURES),
      LOGIN_ACCOUNT_MAX_FAILURES: String(ACCOUNT_MAX_FAILURES),
    },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;

  const fromNewIp = () => httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  /** `refreshToken`: a session the client shows along; none unless given. */
  const login = (client: HttpClient, user: { email: string; password: string }, refreshToken?: string) =>
    client.post('/v1/auth/login', { email: user.email, password: user.password, ...(refreshToken ? { refreshToken } : {}) });
  const wrong = (user: { email: string }, i = 0) => ({ email: user.email, password: `wrong-${i}-password` });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function expectThrottled(res: HttpResult, what: string): number {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(429);
    expect(res.body.error.code, what).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
    expect(res.body).not.to.have.property('accessToken');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter, what).to.be.within(1, LOCK_SECONDS);
    return retryAfter;
  }

  /** Fails the account's ceiling from as many addresses, each well under its own pair limit. */
  async function exhaustAccount(user: TestUser) {
    for (let i = 0; i < ACCOUNT_MAX_FAILURES; i++) expect((await login(fromNewIp(), wrong(user, i))).status).to.equal(401);
  }

  beforeEach(() => {
    api = fromNewIp();
  });

  it('when a pair keeps failing, then each further try waits twice as long as the one before', async function () {
    this.timeout(60_000);
    const user = await registerUser(api);
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(api, wrong(user, i))).status).to.equal(401);
    const first = expectThrottled(await login(api, user), 'right after the limit');
    expect(first).to.be.at.most(DELAY_SECONDS);

    await sleep(first * 1000 + 200);
    expect((await login(api, wrong(user, 9))).status, 'one try once the delay is over').to.equal(401);
    const second = expectThrottled(await login(api, user), 'after one more failure');

    expect(second)
      .to.be.greaterThan(DELAY_SECONDS)
      .and.at.most(2 * DELAY_SECONDS);
  });

  it('when a pair is throttled, then the right and a wrong password get the same 429, so it tells a guesser nothing', async () => {
    const user = await registerUser(api);
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(api, wrong(user, i))).status).to.equal(401);

    const right = await login(api, user);
    const wrongAgain = await login(api, wrong(user, 7));
    const shouted = await login(api, { email: user.email.toUpperCase(), password: user.password });

    expectThrottled(right, 'right password');
    expectThrottled(wrongAgain, 'wrong password');
    expectThrottled(shouted, 'the email in capitals');
    expect(right.body).to.deep.equal(wrongAgain.body);
  });

  it(`when one address fails ${IP_MAX_FAILURES} times across accounts, then it is throttled for everyone and other addresses are not`, async () => {
    const victim = await registerUser(fromNewIp());
    for (let i = 0; i < IP_MAX_FAILURES; i++) {
      expect((await login(api, { email: `nobody-${randomUUID()}@example.test`, password: 'password123' })).status).to.equal(401);
    }

    expectThrottled(await login(api, victim), 'right password from the guessing address');
    expect((await login(fromNewIp(), victim)).status, 'from another address').to.equal(200);
  });

  describe('account ceiling', () => {
    it('when an account fails its ceiling from many addresses, then a right password alone from a new address gets 429', async () => {
      const user = await registerUser(api);
      await exhaustAccount(user);

      expectThrottled(await login(fromNewIp(), user), 'right password, no session');
    });

    it("when the right password comes with one of the account's refresh tokens, then it passes the account's ceiling", async () => {
      const user = await registerUser(api);
      await exhaustAccount(user);

      const res = await login(fromNewIp(), user, user.refreshToken);

      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.user.id).to.equal(user.id);
    });

    it("when a wrong password comes with a refresh token past the account's ceiling, then 401 INVALID_CREDENTIALS, not 429", async () => {
      const user = await registerUser(api);
      await exhaustAccount(user);

      const res = await login(fromNewIp(), wrong(user), user.refreshToken);

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_CREDENTIALS');
    });

    it("when the refresh token is another account's, rotated or revoked, then it proves nothing", async () => {
      const user = await registerUser(api);
      const stranger = await registerUser(api);
      const rotated = await api.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      const otherDevice = await login(fromNewIp(), user);
      await api.post('/v1/auth/logout', { refreshToken: otherDevice.body.refreshToken });
      await exhaustAccount(user);

      for (const [what, refreshToken] of [
        ["another account's", stranger.refreshToken],
        ['rotated', user.refreshToken],
        ['revoked', otherDevice.body.refreshToken],
      ]) {
        expectThrottled(await login(fromNewIp(), user, refreshToken), `${what} token`);
      }
      expect((await login(fromNewIp(), user, rotated.body.refreshToken)).status).to.equal(200);
    });

    it('when the session proof passes, then the address ceiling is passed too, but not the pair limit', async () => {
      const owner = await registerUser(api);
      for (let i = 0; i < IP_MAX_FAILURES; i++) {
        expect((await login(api, { email: `nobody-${randomUUID()}@example.test`, password: 'password123' })).status).to.equal(
          401,
        );
      }
      expectThrottled(await login(api, owner), 'address over its ceiling');

      expect((await login(api, owner, owner.refreshToken)).status).to.equal(200);
      for (let i = 0; i < MAX_FAILURES; i++) {
        expect((await login(api, wrong(owner, i), owner.refreshToken)).status).to.equal(401);
      }
      expectThrottled(await login(api, owner, owner.refreshToken), 'the pair itself');
    });
  });

  describe('across replicas', () => {
    const replicas: Db[] = [];
    const logger = createLogger({ level: 'silent', name: 'auth-throttle-replica' });

    before(() => {
      for (let i = 0; i < 2; i++) replicas.push(createDb({ url: the.stack.config.database.url as string, poolMax: 6 }));
    });
    after(() => Promise.all(replicas.map((db) => db.destroy())));

    it(`when two API replicas take a burst of wrong passwords for one pair, then only ${MAX_FAILURES} are checked in all`, async () => {
      const services = replicas.map((db) =>
        createAuthService({ db, settings: the.stack.config.auth, logger, metrics: createMetrics({ defaultMetrics: false }) }),
      );
      const user = await registerUser(api);
      const ip = uniqueClientIp();

      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          services[i % 2]!.login(wrong(user, i), ip).then(
            () => 'signed in',
            (error: { code: string }) => error.code,
          ),
        ),
      );

      expect(
        outcomes.filter((code) => code === 'INVALID_CREDENTIALS'),
        outcomes.join(','),
      ).to.have.length(MAX_FAILURES);
      expect(outcomes.filter((code) => code === 'TOO_MANY_LOGIN_ATTEMPTS')).to.have.length(12 - MAX_FAILURES);
    });

    it('when throttle rows have been idle for two windows, then pruning deletes them and keeps the rest', async () => {
      const throttle = createLoginThrottle({ db: the.stack.db, settings: the.stack.config.auth });
      const stale = `pair:${uniqueClientIp()}|stale-${randomUUID()}@example.test`;
      const fresh = `pair:${uniqueClientIp()}|fresh-${randomUUID()}@example.test`;
      const longAgo = new Date(Date.now() - 3 * LOCK_SECONDS * 1000);
      await the.stack.db('login_throttles').insert([
        { key: stale, failures: 2, windowStartedAt: longAgo, lastAttemptAt: longAgo },
        { key: fresh, failures: 2, windowStartedAt: new Date(), lastAttemptAt: new Date() },
      ]);

      await throttle.prune();

      const left = await the.stack.db('login_throttles').whereIn('key', [stale, fresh]).pluck('key');
      expect(left).to.deep.equal([fresh]);
    });
  });
});
