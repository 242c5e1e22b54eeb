import { expect } from 'chai';
import { DEMO_CUSTOMER, DEMO_OWNER, seedDemo } from '../../scripts/stack/seed';
import { httpClient, type HttpClient } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

/**
 * `npm start` seeds the demo café on every start. Wrong logins from localhost before a restart
 * (seen with a persisted .data) must not stop the next start.
 */
describe('auth: demo seed', () => {
  let stack: TestStack;
  let local: HttpClient;

  // No TRUST_PROXY: every request comes from 127.0.0.1, as on a laptop running `npm start`.
  before(async () => {
    stack = await startStack({ name: 'auth-seed', withWorker: false, env: { LOGIN_MAX_FAILURES: '3' } });
    local = httpClient(stack.baseUrl);
  });
  after(() => stack?.stop());

  const seed = () => seedDemo({ db: stack.db, config: stack.config, logger: stack.logger });

  it('when the seed runs twice after many wrong logins from localhost, then both runs succeed with the same café and menu', async function () {
    this.timeout(60_000);
    const first = await seed();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      for (const account of [DEMO_OWNER, DEMO_CUSTOMER]) {
        statuses.push((await local.post('/v1/auth/login', { email: account.email, password: `wrong-${i}-pw` })).status);
      }
    }
    expect(statuses, 'the demo accounts are throttled from localhost').to.include(429);
    const denied = await local.post('/v1/auth/login', { email: DEMO_OWNER.email, password: DEMO_OWNER.password });
    expect(denied.status, 'even the right password').to.equal(429);

    const second = await seed();
    const third = await seed();

    for (const run of [second, third]) {
      expect(run.cafeId).to.equal(first.cafeId);
      expect(run.menu.map((item) => item.id).sort()).to.deep.equal(first.menu.map((item) => item.id).sort());
    }
    expect(first.menu.map((item) => item.name)).to.have.members([
      'Espresso',
      'Cortado',
      'Café con leche',
      'Medialuna',
      'Tostado de jamón y queso',
    ]);
    const mine = await local.get('/v1/businesses', { token: third.ownerToken });
    expect(mine.status).to.equal(200);
    expect(mine.body.data.filter((cafe: { name: string }) => cafe.name === 'Café Demo')).to.have.length(1);
    const me = await local.get('/v1/me', { token: third.customerToken });
    expect(me.body.email).to.equal(DEMO_CUSTOMER.email);
    const owners = await stack.db('users').whereIn('email', [DEMO_OWNER.email, DEMO_CUSTOMER.email]).count({ n: '*' });
    expect(Number(owners[0]!.n)).to.equal(2);
  });

  it('when a seed was interrupted halfway through the menu, then the next one completes it without duplicates', async function () {
    this.timeout(60_000);
    const before = await seed();
    const dropped = before.menu.find((item) => item.name === 'Medialuna')!;
    await stack.db('products').where({ id: dropped.id }).delete();

    const after = await seed();

    expect(after.menu.map((item) => item.name).sort()).to.deep.equal(before.menu.map((item) => item.name).sort());
    expect(after.menu.find((item) => item.name === 'Medialuna')!.id).not.to.equal(dropped.id);
  });
});
