import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AccessTokens, hashRefreshToken } from '../../api/auth/tokens';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { useOrderStack } from '../support/use-stack';

const MAX_FAILURES = 3;

describe('auth', () => {
  const the = useOrderStack({
    name: 'auth',
    withWorker: false,
    env: { TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCK_SECONDS: '600' },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;

  // Every test talks from an address of its own, so a lock one test provokes stays in that test.
  const fromNewIp = () => httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  const login = (client: HttpClient, user: { email: string; password: string }) =>
    client.post('/v1/auth/login', { email: user.email, password: user.password });

  beforeEach(() => {
    api = fromNewIp();
  });

  describe('register', () => {
    it('when an account is registered, then it gets a session and its public profile without the password hash', async () => {
      const email = `new-${randomUUID()}@example.test`;
      const res = await api.post('/v1/auth/register', { email, password: 'correct horse battery', name: 'Ana' });

      expect(res.status).to.equal(201);
      expect(res.body).to.include({ tokenType: 'Bearer', expiresIn: the.stack.config.auth.accessTokenTtlSeconds });
      expect(res.body.accessToken).to.be.a('string');
      expect(res.body.refreshToken).to.be.a('string');
      expect(res.body.user).to.have.keys(['id', 'email', 'name', 'createdAt']);
      expect(res.body.user).to.include({ email, name: 'Ana' });
      expect(JSON.stringify(res.body)).not.to.include('scrypt$');
    });

    it('when the email is mixed case, then it is stored lower case', async () => {
      const local = `Mixed-${randomUUID()}`;
      const res = await api.post('/v1/auth/register', { email: `${local}@Example.TEST`, password: 'long enough pw', name: 'M' });

      expect(res.status).to.equal(201);
      expect(res.body.user.email).to.equal(`${local.toLowerCase()}@example.test`);
    });

    it('when the email is already registered, then 409 EMAIL_TAKEN', async () => {
      const user = await registerUser(api);

      const res = await api.post('/v1/auth/register', { email: user.email, password: 'another password', name: 'Twin' });

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('EMAIL_TAKEN');
    });

    it('when the email is registered in another case, then 409 EMAIL_TAKEN', async () => {
      const user = await registerUser(api);

      const res = await api.post('/v1/auth/register', {
        email: user.email.toUpperCase(),
        password: 'another password',
        name: 'T',
      });

      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('EMAIL_TAKEN');
    });

    it('when two registrations of one email race, then one gets 201 and the other 409', async () => {
      const email = `race-${randomUUID()}@example.test`;
      const body = { email, password: 'racing password', name: 'Racer' };

      const results = await Promise.all([api.post('/v1/auth/register', body), api.post('/v1/auth/register', body)]);

      expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409]);
    });

    it('when the password is shorter than 10 characters, then 400 VALIDATION_FAILED naming the field', async () => {
      const res = await api.post('/v1/auth/register', { email: `s-${randomUUID()}@example.test`, password: 'short', name: 'S' });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details).to.deep.include({ in: 'body', path: 'password', message: 'At least 10 characters' });
    });

    it('when the body has an unknown field, then 400 VALIDATION_FAILED', async () => {
      const res = await api.post('/v1/auth/register', {
        email: `x-${randomUUID()}@example.test`,
        password: 'long enough pw',
        name: 'X',
        role: 'admin',
      });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    });
  });

  describe('login', () => {
    it('when the password is right, then a session for that user', async () => {
      const user = await registerUser(api);

      const res = await login(api, user);

      expect(res.status).to.equal(200);
      expect(res.body.user).to.include({ id: user.id, email: user.email });
      const me = await api.get('/v1/me', { token: res.body.accessToken });
      expect(me.status).to.equal(200);
      expect(me.body.id).to.equal(user.id);
    });

    it('when the email differs only in case, then the login succeeds', async () => {
      const user = await registerUser(api);

      const res = await login(api, { email: user.email.toUpperCase(), password: user.password });

      expect(res.status).to.equal(200);
      expect(res.body.user.id).to.equal(user.id);
    });

    it('when the password is wrong, then 401 INVALID_CREDENTIALS', async () => {
      const user = await registerUser(api);

      const res = await login(api, { email: user.email, password: 'not the password' });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_CREDENTIALS');
    });

    it('when the email is unknown, then the same 401 INVALID_CREDENTIALS as a wrong password', async () => {
      const res = await login(api, { email: `nobody-${randomUUID()}@example.test`, password: 'whatever password' });

      expect(res.status).to.equal(401);
      expect(res.body.error).to.deep.equal({ code: 'INVALID_CREDENTIALS', message: 'Email or password is incorrect' });
    });

    it('when the body is missing the password, then 400 VALIDATION_FAILED', async () => {
      const res = await api.post('/v1/auth/login', { email: `a-${randomUUID()}@example.test` });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.include('password');
    });
  });

  describe('login throttling', () => {
    const wrong = (user: { email: string }, i = 0) => ({ email: user.email, password: `wrong-${i}-password` });

    it(`when an attacker fails ${MAX_FAILURES} times from one address, then that address gets 429 with Retry-After and the owner still logs in from theirs`, async () => {
      const victim = await registerUser(api);
      const attacker = fromNewIp();
      for (let i = 0; i < MAX_FAILURES; i++) expect((await login(attacker, wrong(victim, i))).status).to.equal(401);

      const fromAttacker = await login(attacker, victim);
      const fromOwner = await login(fromNewIp(), victim);

      expect(fromAttacker.status).to.equal(429);
      expect(fromAttacker.body.error.code).to.equal('TOO_MANY_LOGIN_ATTEMPTS');
      expect(Number(fromAttacker.headers.get('retry-after')))
        .to.be.greaterThan(0)
        .and.at.most(600);
      expect(fromOwner.status, 'the account itself is not locked').to.equal(200);
      expect(fromOwner.body.user.id).to.equal(victim.id);
    });

    it('when many accounts fail behind one address (a shared Wi-Fi), then a new user on that address still logs in', async () => {
      const cafeWifi = fromNewIp();
      for (let account = 0; account < 8; account++) {
        const someone = { email: `guest-${randomUUID()}@example.test` };
        for (let i = 0; i < MAX_FAILURES; i++) expect((await login(cafeWifi, wrong(someone, i))).status).to.equal(401);
      }
      const newcomer = await registerUser(cafeWifi);

      const res = await login(cafeWifi, newcomer);

      expect(res.status, `${8 * MAX_FAILURES} failures from the address before`).to.equal(200);
      expect(res.body.user.id).to.equal(newcomer.id);
    });

    it('when a user fails fewer times than the limit and then logs in, then their failure count starts over', async () => {
      const user = await registerUser(api);
      for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await login(api, wrong(user, i))).status).to.equal(401);
      expect((await login(api, user)).status).to.equal(200);

      for (let i = 0; i < MAX_FAILURES - 1; i++) {
        expect((await login(api, wrong(user, i))).status, `failure ${i + 1} after the success`).to.equal(401);
      }

      expect((await login(api, user)).status).to.equal(200);
    });

    it(`when a burst of wrong passwords hits one account from one address at once, then only ${MAX_FAILURES} are checked and the rest get 429`, async () => {
      const user = await registerUser(api);

      const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => login(api, wrong(user, i))));

      const statuses = burst.map((res) => res.status).sort();
      expect(statuses, statuses.join(',')).to.deep.equal([
        ...Array<number>(MAX_FAILURES).fill(401),
        ...Array<number>(12 - MAX_FAILURES).fill(429),
      ]);
      expect((await login(api, user)).status, 'the right password from that address afterwards').to.equal(429);
      expect((await login(fromNewIp(), user)).status, 'the right password from elsewhere').to.equal(200);
    });
  });

  describe('access tokens', () => {
    let user: TestUser;
    beforeEach(async () => {
      user = await registerUser(api);
    });

    it('when /v1/me is called with a valid token, then the account without secrets', async () => {
      const res = await api.get('/v1/me', { token: user.token });

      expect(res.status).to.equal(200);
      expect(res.body).to.have.keys(['id', 'email', 'name', 'createdAt']);
      expect(res.body).to.include({ id: user.id, email: user.email });
    });

    it('when no Authorization header is sent, then 401 UNAUTHORIZED', async () => {
      const res = await api.get('/v1/me');

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('UNAUTHORIZED');
    });

    it('when the Authorization header is not a bearer token, then 401 UNAUTHORIZED', async () => {
      const res = await api.get('/v1/me', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('UNAUTHORIZED');
    });

    it('when the access token has expired, then 401 TOKEN_EXPIRED', async () => {
      const expired = await new AccessTokens(the.stack.config.auth.jwtSecret, -60).sign({ userId: user.id, email: user.email });

      const res = await api.get('/v1/me', { token: expired.token });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('TOKEN_EXPIRED');
    });

    it('when the token payload was altered, then 401 INVALID_TOKEN', async () => {
      const [header, payload, signature] = user.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, sub: randomUUID() })).toString('base64url');

      const res = await api.get('/v1/me', { token: `${header}.${forged}.${signature}` });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_TOKEN');
    });

    it('when the token was signed with another key, then 401 INVALID_TOKEN', async () => {
      const other = await new AccessTokens('another-secret-that-is-at-least-32-characters', 900).sign({
        userId: user.id,
        email: user.email,
      });

      const res = await api.get('/v1/me', { token: other.token });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_TOKEN');
    });
  });

  describe('refresh and logout', () => {
    const refresh = (refreshToken: string) => api.post('/v1/auth/refresh', { refreshToken });

    it('when a refresh token is exchanged, then a new pair comes back and the new access token works', async () => {
      const user = await registerUser(api);

      const res = await refresh(user.refreshToken);

      expect(res.status).to.equal(200);
      expect(res.body.refreshToken).to.be.a('string').and.not.equal(user.refreshToken);
      expect(res.body.user.id).to.equal(user.id);
      expect((await api.get('/v1/me', { token: res.body.accessToken })).status).to.equal(200);
      expect((await refresh(res.body.refreshToken)).status, 'the rotated token rotates again').to.equal(200);
    });

    it('when a rotated refresh token is presented again, then 401 REFRESH_TOKEN_REUSED and the newer token stops working too', async () => {
      const user = await registerUser(api);
      const rotated = await refresh(user.refreshToken);
      expect(rotated.status).to.equal(200);

      const reuse = await refresh(user.refreshToken);

      expect(reuse.status).to.equal(401);
      expect(reuse.body.error.code).to.equal('REFRESH_TOKEN_REUSED');
      const newer = await refresh(rotated.body.refreshToken);
      expect(newer.status).to.equal(401);
      expect(newer.body.error.code).to.equal('REFRESH_TOKEN_REVOKED');
      expect(
        the.stack.logs.lines.some((line) => line.includes('"event":"refresh_token_reused"')),
        'the reuse is logged as a security event',
      ).to.equal(true);
    });

    it('when a reused token is detected, then the other logins of the same user keep working', async () => {
      const user = await registerUser(api);
      const otherDevice = await login(api, user);
      await refresh(user.refreshToken);
      expect((await refresh(user.refreshToken)).body.error.code).to.equal('REFRESH_TOKEN_REUSED');

      const res = await refresh(otherDevice.body.refreshToken);

      expect(res.status).to.equal(200);
    });

    it('when the same refresh token is exchanged twice at once, then exactly one exchange succeeds', async () => {
      const user = await registerUser(api);

      const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);

      expect(results.map((r) => r.status).sort()).to.deep.equal([200, 401]);
    });

    it('when the refresh token is unknown, then 401 INVALID_REFRESH_TOKEN', async () => {
      const res = await refresh('not-a-token-we-issued');

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_REFRESH_TOKEN');
    });

    it('when the refresh token has expired, then 401 REFRESH_TOKEN_EXPIRED', async () => {
      const user = await registerUser(api);
      await the.stack
        .db('refresh_tokens')
        .where({ tokenHash: hashRefreshToken(user.refreshToken) })
        .update({ expiresAt: new Date(Date.now() - 1000) });

      const res = await refresh(user.refreshToken);

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('REFRESH_TOKEN_EXPIRED');
    });

    it('when a user logs out, then 204 and the refresh token is revoked', async () => {
      const user = await registerUser(api);

      const res = await api.post('/v1/auth/logout', { refreshToken: user.refreshToken });

      expect(res.status).to.equal(204);
      const after = await refresh(user.refreshToken);
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('REFRESH_TOKEN_REVOKED');
    });

    it('when a user logs out after rotating, then the earlier and the current token of that login are both revoked', async () => {
      const user = await registerUser(api);
      const rotated = await refresh(user.refreshToken);

      await api.post('/v1/auth/logout', { refreshToken: rotated.body.refreshToken });

      expect((await refresh(rotated.body.refreshToken)).body.error.code).to.equal('REFRESH_TOKEN_REVOKED');
      expect((await refresh(user.refreshToken)).body.error.code).to.equal('REFRESH_TOKEN_REVOKED');
    });

    it('when an unknown refresh token is logged out, then 204 all the same', async () => {
      const res = await api.post('/v1/auth/logout', { refreshToken: 'never-issued' });

      expect(res.status).to.equal(204);
    });
  });

  it('when a whole session runs (register, failed and good logins, refresh, logout), then no log line carries its secrets', async () => {
    const user = await registerUser(api);
    await login(api, { email: user.email, password: `${user.password}-typo` });
    const session = await login(api, user);
    const rotated = await api.post('/v1/auth/refresh', { refreshToken: session.body.refreshToken });
    await api.get('/v1/me', { token: rotated.body.accessToken });
    await api.post('/v1/auth/logout', { refreshToken: rotated.body.refreshToken });

    const secrets = [
      user.password,
      user.token,
      user.refreshToken,
      session.body.accessToken,
      session.body.refreshToken,
      rotated.body.accessToken,
      rotated.body.refreshToken,
    ];
    expect(
      the.stack.logs.lines.some((line) => line.includes(user.id)),
      'the session was logged',
    ).to.equal(true);
    for (const line of the.stack.logs.lines) for (const secret of secrets) expect(line).not.to.include(secret);
  });
});
