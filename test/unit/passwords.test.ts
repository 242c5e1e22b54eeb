import { expect } from 'chai';
import { AppError } from '../../lib/errors';
import {
  createPasswordHasher,
  DEFAULT_HASH_COST,
  hashMemoryBytes,
  hashPassword,
  scryptParams,
  storedParams,
  verifyPassword,
} from '../../api/auth/passwords';

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

  it("when the default parameters are used, then they are a row of OWASP's scrypt table that takes 64 MiB", () => {
    expect(scryptParams(DEFAULT_HASH_COST)).to.deep.equal({ N: 2 ** 16, r: 8, p: 2 });
    expect(scryptParams(17)).to.deep.equal({ N: 2 ** 17, r: 8, p: 1 });
    expect(scryptParams(15)).to.deep.equal({ N: 2 ** 15, r: 8, p: 3 });
    expect(Math.round(hashMemoryBytes(scryptParams(DEFAULT_HASH_COST)) / 2 ** 20)).to.equal(64);
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

  it('when a hash of the old default (N = 2^17) is checked, then it verifies with the parameters stored in it', async function () {
    this.timeout(30_000);
    const old = await hashPassword('an account from before', { N: 2 ** 17, r: 8, p: 1 });

    expect(storedParams(old)).to.deep.equal({ N: 2 ** 17, r: 8, p: 1 });
    expect(await verifyPassword('an account from before', old)).to.equal(true);
    expect(await verifyPassword('an account from after', old)).to.equal(false);
  });

  it('when a stored hash asks for more than 2^20 blocks, then it is refused without allocating', async () => {
    const hash = await hashPassword('huge', FAST);
    const parts = hash.split('$');
    parts[1] = String(2 ** 24);

    expect(storedParams(parts.join('$'))).to.equal(undefined);
    expect(await verifyPassword('huge', parts.join('$'))).to.equal(false);
  });

  describe('bounded hasher', () => {
    const settings = { passwordHashCost: 14, passwordHashConcurrency: 2, passwordHashQueueTimeoutMs: 10_000 };

    it('when a hash is outdated, then the hasher says so; a current one is not', async () => {
      const hasher = createPasswordHasher(settings);
      const current = await hasher.hash('fresh password');
      const older = await hashPassword('fresh password', { N: 2 ** 15, r: 8, p: 3 });

      expect(hasher.isOutdated(current)).to.equal(false);
      expect(hasher.isOutdated(older)).to.equal(true);
      expect(await hasher.verify('fresh password', older)).to.equal(true);
    });

    it('when more hashes are asked for than the budget, then no more than the budget run at once and all finish', async () => {
      const hasher = createPasswordHasher(settings);
      let peak = 0;
      const watch = setInterval(() => (peak = Math.max(peak, hasher.load().inUse)), 1);

      const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hasher.hash(`password ${i}`))).finally(() =>
        clearInterval(watch),
      );

      expect(hashes).to.have.length(6);
      expect(peak).to.be.within(1, 2);
      expect(hasher.load()).to.deep.equal({ inUse: 0, queued: 0 });
    });

    it('when a request waits past the queue timeout, then it fails with 503 BUSY and Retry-After, and the queue empties', async () => {
      const hasher = createPasswordHasher({ passwordHashCost: 14, passwordHashConcurrency: 1, passwordHashQueueTimeoutMs: 1 });
      // Twice the budget's memory: it holds the only permit for as long as it runs.
      const slow = hasher.verify('password', await hashPassword('password', { N: 2 ** 15, r: 8, p: 1 }));

      const waiting = await hasher.hash('second password').then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(waiting).to.be.instanceOf(AppError);
      expect(waiting).to.include({ status: 503, code: 'BUSY' });
      expect((waiting as AppError).headers).to.deep.equal({ 'Retry-After': '1' });
      expect(await slow).to.equal(true);
      expect(hasher.load()).to.deep.equal({ inUse: 0, queued: 0 });
    });

    it('when an unknown account is checked, then it waits its turn like a real one and never verifies', async () => {
      const hasher = createPasswordHasher({ passwordHashCost: 14, passwordHashConcurrency: 1, passwordHashQueueTimeoutMs: 1 });
      expect(await hasher.verifyUnknownAccount('anything')).to.equal(false);
      const slow = hasher.verify('password', await hashPassword('password', { N: 2 ** 15, r: 8, p: 1 }));

      const queued = await hasher.verifyUnknownAccount('anything').then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(queued).to.include({ status: 503, code: 'BUSY' });
      await slow;
    });
  });
});
