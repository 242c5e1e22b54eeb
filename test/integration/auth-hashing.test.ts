import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { hashPassword, scryptParams, storedParams, verifyPassword } from '../../api/auth/passwords';
import { registerUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { useOrderStack } from '../support/use-stack';

/**
 * Password hashing under a memory budget: one hash at a time and no patience, so a burst meets
 * the queue's limit; and old hashes upgraded as their owners sign in.
 */
const HASH_COST = 14;

describe('auth: bounded password hashing', () => {
  const the = useOrderStack({
    name: 'auth-hashing',
    withWorker: false,
    env: {
      TRUST_PROXY: 'true',
      PASSWORD_HASH_COST: String(HASH_COST),
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '1',
    },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;

  const fromNewIp = () => httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
  const storedHash = async (userId: string) =>
    (await the.stack.db('users').where({ id: userId }).first('passwordHash')).passwordHash as string;

  beforeEach(() => {
    api = fromNewIp();
  });

  it('when registrations arrive faster than the budget hashes, then the excess gets 503 BUSY with Retry-After and creates nothing', async () => {
    const emails = Array.from({ length: 8 }, () => `burst-${randomUUID()}@example.test`);

    const results = await Promise.all(
      emails.map((email) => fromNewIp().post('/v1/auth/register', { email, password: 'burst password', name: 'B' })),
    );

    const busy = results.filter((res) => res.status === 503);
    expect(results.map((res) => res.status).filter((status) => status !== 201 && status !== 503)).to.deep.equal([]);
    expect(busy.length, 'refused for lack of room').to.be.at.least(1);
    expect(results.some((res) => res.status === 201)).to.equal(true);
    for (const res of busy) {
      expect(res.body.error.code).to.equal('BUSY');
      expect(Number(res.headers.get('retry-after'))).to.be.at.least(1);
    }
    const created = await the.stack.db('users').whereIn('email', emails).count({ n: '*' });
    expect(Number(created[0]!.n)).to.equal(results.length - busy.length);
  });

  it('when logins are refused as BUSY, then they count as no failure', async () => {
    const user = await registerUser(api);

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fromNewIp().post('/v1/auth/login', { email: user.email, password: `wrong-${i}-pw` })),
    );

    const statuses = results.map((res) => res.status);
    expect(
      statuses.filter((status) => status !== 401 && status !== 503),
      statuses.join(','),
    ).to.deep.equal([]);
    expect(statuses, statuses.join(',')).to.include(503);
    const account = await the.stack
      .db('login_throttles')
      .where({ key: `account:${user.email}` })
      .first('failures');
    expect(account.failures).to.equal(statuses.filter((status) => status === 401).length);
  });

  it('when an account hashed with the old default (N = 2^17) signs in, then it gets in and its hash is redone with the current parameters', async function () {
    this.timeout(60_000);
    const user = await registerUser(api);
    const old = await hashPassword(user.password, { N: 2 ** 17, r: 8, p: 1 });
    await the.stack.db('users').where({ id: user.id }).update({ passwordHash: old });

    const res = await api.post('/v1/auth/login', { email: user.email, password: user.password });

    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const upgraded = await storedHash(user.id);
    expect(upgraded).not.to.equal(old);
    expect(storedParams(upgraded)).to.deep.equal(scryptParams(HASH_COST));
    expect(await verifyPassword(user.password, upgraded)).to.equal(true);
    expect((await api.post('/v1/auth/login', { email: user.email, password: user.password })).status).to.equal(200);
    expect(await storedHash(user.id), 'a current hash is left alone').to.equal(upgraded);
  });

  it('when a wrong password is tried on an old hash, then the hash stays as it was', async () => {
    const user = await registerUser(api);
    const old = await hashPassword(user.password, { N: 2 ** 15, r: 8, p: 1 });
    await the.stack.db('users').where({ id: user.id }).update({ passwordHash: old });

    const res = await api.post('/v1/auth/login', { email: user.email, password: 'not the password' });

    expect(res.status).to.equal(401);
    expect(await storedHash(user.id)).to.equal(old);
  });
});
