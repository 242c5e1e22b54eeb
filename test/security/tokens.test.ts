import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { useOrderStack } from '../support/use-stack';

/**
 * Forged and mangled credentials, through the API. test/unit/tokens.test.ts covers the verifier
 * itself and test/integration/auth.test.ts the expired, re-signed and altered-payload cases; here
 * are the attacks on the algorithm and the header, and what a client can get wrong in sending one.
 */
const ISSUER = 'cafe-flow';
const AUDIENCE = 'cafe-flow-api';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('security: access and refresh tokens through the API', () => {
  const the = useOrderStack({
    name: 'tokens',
    withWorker: false,
    env: { RATE_LIMIT_PER_MINUTE: '100000', TRUST_PROXY: 'true' },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;
  let secret: Uint8Array;

  before(() => {
    secret = new TextEncoder().encode(the.stack.config.auth.jwtSecret);
  });
  // Login locks are per address, and the database is shared with the rest of the run: an address of our own.
  beforeEach(() => {
    api = httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  });

  /** The claims a real token of `user` carries. */
  const claimsOf = (user: TestUser) => ({ email: user.email });
  const withClaims = <T extends SignJWT | UnsecuredJWT>(jwt: T, user: TestUser): T =>
    jwt.setSubject(user.id).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('10m') as T;

  async function expectRefused(authorization: string, code: string) {
    for (const path of ['/v1/me', '/v1/businesses']) {
      const res = await api.get(path, { headers: { authorization } });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(401);
      expect(res.body).to.have.keys(['error']);
      expect(res.body.error.code, path).to.equal(code);
    }
  }

  describe('forged signatures', () => {
    const forgeries: [string, (user: TestUser) => Promise<string>][] = [
      ['is unsigned (alg "none")', async (user) => withClaims(new UnsecuredJWT(claimsOf(user)), user).encode()],
      [
        'says alg "none" but keeps a real signature',
        async (user) => {
          const real = await withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'HS256' }), user).sign(secret);
          const [, payload, signature] = real.split('.');
          return `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
        },
      ],
      [
        'is HS512-signed with the server secret',
        (user) => withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'HS512' }), user).sign(secret),
      ],
      [
        'is HS384-signed with the server secret',
        (user) => withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'HS384' }), user).sign(secret),
      ],
      [
        "is RS256-signed with an attacker's key",
        async (user) => {
          const { privateKey } = await generateKeyPair('RS256');
          return withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'RS256' }), user).sign(privateKey);
        },
      ],
      [
        'says RS256 but is HMAC-signed with the server secret (key confusion)',
        async (user) => {
          const now = Math.floor(Date.now() / 1000);
          const signingInput = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({ ...claimsOf(user), sub: user.id, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 })}`;
          return `${signingInput}.${createHmac('sha256', Buffer.from(secret)).update(signingInput).digest('base64url')}`;
        },
      ],
      [
        "embeds the attacker's own public key (jwk header)",
        async (user) => {
          const { privateKey, publicKey } = await generateKeyPair('RS256');
          const jwk = await exportJWK(publicKey);
          return withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'RS256', jwk }), user).sign(privateKey);
        },
      ],
      [
        'points at a key on an attacker URL (jku, kid)',
        async (user) => {
          const { privateKey } = await generateKeyPair('RS256');
          return withClaims(
            new SignJWT(claimsOf(user)).setProtectedHeader({
              alg: 'RS256',
              jku: 'https://attacker.example/jwks.json',
              kid: "' OR 1=1 --",
            }),
            user,
          ).sign(privateKey);
        },
      ],
      [
        'was re-pointed at another user, with a role claim added, under the original signature',
        async (user) => {
          const victim = await registerUser(api, 'Victim');
          const [header, payload, signature] = user.token.split('.') as [string, string, string];
          const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
          return `${header}.${base64url({ ...claims, sub: victim.id, email: victim.email, role: 'owner' })}.${signature}`;
        },
      ],
      [
        'is not valid before a time still to come (nbf)',
        (user) =>
          withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'HS256' }), user)
            .setNotBefore('1h')
            .sign(secret),
      ],
      [
        'was issued by someone else with the server secret',
        (user) =>
          new SignJWT(claimsOf(user))
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(user.id)
            .setIssuer('someone-else')
            .setAudience(AUDIENCE)
            .setExpirationTime('10m')
            .sign(secret),
      ],
    ];

    for (const [what, forge] of forgeries) {
      it(`when the token ${what}, then 401 INVALID_TOKEN`, async () => {
        const user = await registerUser(api);

        await expectRefused(`Bearer ${await forge(user)}`, 'INVALID_TOKEN');
      });
    }

    it("when a token is HS256-signed with the server secret, then it is accepted (the forgeries above fail for what they change, not for how they're built)", async () => {
      const user = await registerUser(api);
      const token = await withClaims(new SignJWT(claimsOf(user)).setProtectedHeader({ alg: 'HS256' }), user).sign(secret);

      const res = await api.get('/v1/me', { token });

      expect(res.status).to.equal(200);
      expect(res.body.id).to.equal(user.id);
    });
  });

  describe('malformed Authorization headers', () => {
    const headers: [string, (token: string) => string, string][] = [
      ['the token without "Bearer"', (token) => token, 'UNAUTHORIZED'],
      ['"Bearer" and nothing else', () => 'Bearer', 'UNAUTHORIZED'],
      ['"Bearer " and a space', () => 'Bearer  ', 'UNAUTHORIZED'],
      ['two spaces before the token', (token) => `Bearer  ${token}`, 'UNAUTHORIZED'],
      ['another scheme', (token) => `Token ${token}`, 'UNAUTHORIZED'],
      ['two tokens', (token) => `Bearer ${token}, Bearer ${token}`, 'UNAUTHORIZED'],
      ['characters a JWT never has', () => "Bearer abc$def'--", 'UNAUTHORIZED'],
      ['garbage in JWT shape', () => 'Bearer not.a.jwt', 'INVALID_TOKEN'],
      [
        'a header segment that is not JSON',
        (token) => `Bearer ${Buffer.from('{"alg":').toString('base64url')}.${token.split('.')[1]}.x`,
        'INVALID_TOKEN',
      ],
      ['only two segments', (token) => `Bearer ${token.split('.').slice(0, 2).join('.')}`, 'INVALID_TOKEN'],
      ['8 KB of token', () => `Bearer ${'a'.repeat(8192)}`, 'INVALID_TOKEN'],
    ];

    for (const [what, header, code] of headers) {
      it(`when the Authorization header is ${what}, then 401 ${code}`, async () => {
        const user = await registerUser(api);

        await expectRefused(header(user.token), code);
      });
    }

    it('when the token comes in the query string or a cookie instead of the header, then 401 UNAUTHORIZED', async () => {
      const user = await registerUser(api);

      const inQuery = await api.get(`/v1/me?access_token=${user.token}`);
      const inCookie = await api.get('/v1/me', { headers: { cookie: `access_token=${user.token}; token=${user.token}` } });

      for (const res of [inQuery, inCookie]) {
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal('UNAUTHORIZED');
      }
    });

    it('when a refresh token is sent as the access token, then 401 INVALID_TOKEN', async () => {
      const user = await registerUser(api);

      await expectRefused(`Bearer ${user.refreshToken}`, 'INVALID_TOKEN');
    });

    it('when an access token is sent as the refresh token, then 401 INVALID_REFRESH_TOKEN', async () => {
      const user = await registerUser(api);

      const res = await api.post('/v1/auth/refresh', { refreshToken: user.token.slice(0, 200) });

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_REFRESH_TOKEN');
    });
  });

  describe('refresh token families', () => {
    const refresh = (refreshToken: string) => api.post('/v1/auth/refresh', { refreshToken });

    it('when the first token of a chain of rotations is replayed, then REFRESH_TOKEN_REUSED, every later token is revoked and a new login still works', async () => {
      const user = await registerUser(api);
      const chain = [user.refreshToken];
      for (let i = 0; i < 3; i++) {
        const rotated = await refresh(chain.at(-1)!);
        expect(rotated.status).to.equal(200);
        chain.push(rotated.body.refreshToken);
      }

      const replay = await refresh(chain[0]!);

      expect(replay.status).to.equal(401);
      expect(replay.body.error.code).to.equal('REFRESH_TOKEN_REUSED');
      for (const [i, token] of chain.slice(1).entries()) {
        const res = await refresh(token);
        expect(res.status, `token ${i + 1}`).to.equal(401);
        expect(res.body.error.code, `token ${i + 1}`).to.be.oneOf(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_REVOKED']);
      }
      const login = await api.post('/v1/auth/login', { email: user.email, password: user.password });
      expect(login.status).to.equal(200);
      expect((await refresh(login.body.refreshToken)).status, 'the new family rotates').to.equal(200);
    });

    it('when a stolen token is used first by the thief, then the owner presenting it is what revokes the thief too', async () => {
      const user = await registerUser(api);
      const thief = await refresh(user.refreshToken);
      expect(thief.status).to.equal(200);

      const owner = await refresh(user.refreshToken);

      expect(owner.body.error.code).to.equal('REFRESH_TOKEN_REUSED');
      const thiefAgain = await refresh(thief.body.refreshToken);
      expect(thiefAgain.status).to.equal(401);
      expect(thiefAgain.body.error.code).to.equal('REFRESH_TOKEN_REVOKED');
    });

    it('when a made-up refresh token is presented, then 401 INVALID_REFRESH_TOKEN and no family is touched', async () => {
      const user = await registerUser(api);

      const res = await refresh(`${user.refreshToken.slice(0, -4)}AAAA`);

      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('INVALID_REFRESH_TOKEN');
      expect((await refresh(user.refreshToken)).status).to.equal(200);
    });
  });
});
