import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AccessTokens, hashRefreshToken, newRefreshToken } from '../../api/auth/tokens';
import { AppError } from '../../lib/errors';

const SECRET = 'unit-test-secret-that-is-at-least-32-characters';
const claims = { userId: randomUUID(), email: 'ana@example.test' };
const key = new TextEncoder().encode(SECRET);

async function refusal(tokens: AccessTokens, token: string): Promise<AppError> {
  try {
    await tokens.verify(token);
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    expect((error as AppError).status).to.equal(401);
    return error as AppError;
  }
  expect.fail('the token was accepted');
}

/** A token as `AccessTokens` would sign it, with the given parts changed. */
function signed(
  change: { alg?: string; issuer?: string; audience?: string; payload?: Record<string, unknown>; expires?: boolean } = {},
) {
  const jwt = new SignJWT(change.payload ?? { email: claims.email })
    .setProtectedHeader({ alg: change.alg ?? 'HS256' })
    .setSubject(claims.userId)
    .setIssuer(change.issuer ?? 'cafe-flow')
    .setAudience(change.audience ?? 'cafe-flow-api')
    .setIssuedAt();
  if (change.expires !== false) jwt.setExpirationTime('5m');
  return jwt.sign(key);
}

describe('access tokens', () => {
  const tokens = new AccessTokens(SECRET, 900);

  it('when a token is signed and verified, then the claims come back and it lives ttl seconds', async () => {
    const { token, expiresIn } = await tokens.sign(claims);

    expect(expiresIn).to.equal(900);
    expect(await tokens.verify(token)).to.deep.equal(claims);
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(payload.exp - payload.iat).to.equal(900);
  });

  it('when a token has expired, then TOKEN_EXPIRED', async () => {
    const { token } = await new AccessTokens(SECRET, -1).sign(claims);

    expect((await refusal(tokens, token)).code).to.equal('TOKEN_EXPIRED');
  });

  it('when the payload was tampered with, then INVALID_TOKEN', async () => {
    const { token } = await tokens.sign(claims);
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ sub: randomUUID(), email: 'mallory@example.test', iss: 'cafe-flow', aud: 'cafe-flow-api', exp: 9e9 }),
    ).toString('base64url');

    expect((await refusal(tokens, `${header}.${forged}.${signature}`)).code).to.equal('INVALID_TOKEN');
  });

  it('when the signature was altered, then INVALID_TOKEN', async () => {
    const { token } = await tokens.sign(claims);
    const last = token.at(-2) === 'A' ? 'B' : 'A';

    expect((await refusal(tokens, `${token.slice(0, -2)}${last}${token.at(-1)}`)).code).to.equal('INVALID_TOKEN');
  });

  it('when the token was signed with another key, then INVALID_TOKEN', async () => {
    const { token } = await new AccessTokens('some-other-secret-that-is-32-characters-long', 900).sign(claims);

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the token is unsigned (alg none), then INVALID_TOKEN', async () => {
    const token = new UnsecuredJWT({ email: claims.email })
      .setSubject(claims.userId)
      .setIssuer('cafe-flow')
      .setAudience('cafe-flow-api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the token uses another HMAC algorithm with the same key, then INVALID_TOKEN', async () => {
    const token = await signed({ alg: 'HS512' });

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the issuer is not ours, then INVALID_TOKEN', async () => {
    const token = await signed({ issuer: 'someone-else' });

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the audience is not the API, then INVALID_TOKEN', async () => {
    const token = await signed({ audience: 'another-api' });

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the email claim is missing, then INVALID_TOKEN', async () => {
    const token = await signed({ payload: {} });

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the token has no expiry, then INVALID_TOKEN', async () => {
    const token = await signed({ expires: false });

    expect((await refusal(tokens, token)).code).to.equal('INVALID_TOKEN');
  });

  it('when the string is not a JWT at all, then INVALID_TOKEN', async () => {
    expect((await refusal(tokens, 'not.a.jwt')).code).to.equal('INVALID_TOKEN');
  });
});

describe('refresh tokens', () => {
  it('when one is issued, then it is 256 random bits and only its SHA-256 is kept', () => {
    const { token, hash } = newRefreshToken();

    expect(Buffer.from(token, 'base64url')).to.have.length(32);
    expect(hash).to.match(/^[0-9a-f]{64}$/);
    expect(hash).to.equal(hashRefreshToken(token));
    expect(hash).not.to.include(token);
  });

  it('when many are issued, then no two are alike', () => {
    const issued = new Set(Array.from({ length: 1000 }, () => newRefreshToken().token));

    expect(issued.size).to.equal(1000);
  });
});
