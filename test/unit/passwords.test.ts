import { expect } from 'chai';
import { dummyPasswordHash, hashPassword, scryptParams, verifyPassword } from '../../api/auth/passwords';

// The lowest cost config allows: the same code path as production, at a fraction of the time.
const FAST = scryptParams(14);

describe('passwords', () => {
  it('when a password is hashed, then the hash names scrypt and its parameters and not the password', async () => {
    const hash = await hashPassword('correct horse battery staple', FAST);

    const [scheme, n, r, p, salt, key] = hash.split('$');
    expect([scheme, n, r, p]).to.deep.equal(['scrypt', String(2 ** 14), '8', '1']);
    expect(Buffer.from(salt as string, 'base64url')).to.have.length(16);
    expect(Buffer.from(key as string, 'base64url')).to.have.length(32);
    expect(hash).not.to.include('correct horse');
  });

  it('when the default parameters are used, then they are OWASP strength (N = 2^17)', () => {
    expect(scryptParams(17)).to.deep.equal({ N: 131072, r: 8, p: 1 });
  });

  it('when the right password is checked, then it verifies', async () => {
    const hash = await hashPassword('correct horse battery staple', FAST);

    expect(await verifyPassword('correct horse battery staple', hash)).to.equal(true);
  });

  it('when a wrong password is checked, then it does not verify', async () => {
    const hash = await hashPassword('correct horse battery staple', FAST);

    expect(await verifyPassword('correct horse battery stapler', hash)).to.equal(false);
    expect(await verifyPassword('', hash)).to.equal(false);
  });

  it('when the same password is hashed twice, then the salts and hashes differ', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', FAST), hashPassword('same password', FAST)]);

    expect(a).not.to.equal(b);
    expect(await verifyPassword('same password', a)).to.equal(true);
    expect(await verifyPassword('same password', b)).to.equal(true);
  });

  it('when a hash was made with other parameters, then it still verifies with the ones stored in it', async () => {
    const hash = await hashPassword('older account', { N: 2 ** 14, r: 4, p: 2 });

    expect(await verifyPassword('older account', hash)).to.equal(true);
  });

  it('when passwords use non-ASCII characters, then they verify exactly', async () => {
    const hash = await hashPassword('contraseña-café-☕', FAST);

    expect(await verifyPassword('contraseña-café-☕', hash)).to.equal(true);
    expect(await verifyPassword('contrasena-cafe-☕', hash)).to.equal(false);
  });

  for (const [what, stored] of [
    ['empty', ''],
    ['of another scheme', 'bcrypt$2b$10$abc'],
    ['missing its key', 'scrypt$16384$8$1$c2FsdA'],
  ]) {
    it(`when the stored hash is ${what}, then nothing verifies against it`, async () => {
      expect(await verifyPassword('anything', stored as string)).to.equal(false);
    });
  }

  it('when a stored key was truncated, then it does not verify', async () => {
    const hash = await hashPassword('truncate me', FAST);
    const parts = hash.split('$');
    parts[5] = (parts[5] as string).slice(0, 20);

    expect(await verifyPassword('truncate me', parts.join('$'))).to.equal(false);
  });

  it('when the dummy hash is asked for twice, then it is computed once and matches no real password', async () => {
    const first = dummyPasswordHash(14);

    expect(dummyPasswordHash(14)).to.equal(first);
    expect(await verifyPassword('', await first)).to.equal(false);
  });
});
