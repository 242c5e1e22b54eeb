import { expect } from 'chai';
import { rateLimit } from '../../api/http/rate-limit';
import type { AppContext } from '../../api/http/context';
import { createMetrics } from '../../lib/metrics';

/** Just what the limiter touches on a Koa context. */
function fakeContext(ip: string, path = '/v1/me') {
  const headers: Record<string, string> = {};
  const ctx = {
    ip,
    path,
    status: 404,
    body: undefined as unknown,
    set: (name: string, value: string) => (headers[name] = value),
  };
  return { ctx: ctx as unknown as AppContext, headers, result: ctx };
}

describe('rate limit', () => {
  let clock: number;
  let metrics: ReturnType<typeof createMetrics>;
  let limiter: ReturnType<typeof rateLimit>;
  const passed = { count: 0 };
  const next = async () => {
    passed.count += 1;
  };

  beforeEach(() => {
    clock = Date.UTC(2026, 10, 28, 12, 0, 0);
    passed.count = 0;
    metrics = createMetrics({ defaultMetrics: false });
    limiter = rateLimit({ perMinute: 3, metrics, exempt: (path) => path === '/health', now: () => clock });
  });

  async function call(ip: string, path?: string) {
    const fake = fakeContext(ip, path);
    await limiter(fake.ctx, next);
    return fake;
  }

  it('when a client stays within the limit, then every request passes with the remaining count', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) remaining.push((await call('1.1.1.1')).headers['RateLimit-Remaining'] as string);

    expect(passed.count).to.equal(3);
    expect(remaining).to.deep.equal(['2', '1', '0']);
  });

  it('when a client goes over, then 429 RATE_LIMITED with Retry-After until the window ends', async () => {
    for (let i = 0; i < 3; i++) await call('1.1.1.1');
    clock += 20_000;

    const refused = await call('1.1.1.1');

    expect(passed.count).to.equal(3);
    expect(refused.result.status).to.equal(429);
    expect(refused.result.body).to.deep.include({ error: { code: 'RATE_LIMITED', message: 'Too many requests; retry in 40 s' } });
    expect(refused.headers['Retry-After']).to.equal('40');
    expect(refused.headers['RateLimit-Remaining']).to.equal('0');
    expect((await metrics.rateLimitRejections.get()).values).to.deep.include({ labels: { scope: 'ip' }, value: 1 });
  });

  it('when the minute has passed, then the client starts a fresh window', async () => {
    for (let i = 0; i < 4; i++) await call('1.1.1.1');
    clock += 60_000;

    const res = await call('1.1.1.1');

    expect(res.result.status).to.equal(404);
    expect(res.headers['RateLimit-Remaining']).to.equal('2');
    expect(passed.count).to.equal(4);
  });

  it('when one client is over the limit, then another IP is counted apart', async () => {
    for (let i = 0; i < 4; i++) await call('1.1.1.1');

    const other = await call('2.2.2.2');

    expect(other.result.status).to.equal(404);
    expect(other.headers['RateLimit-Remaining']).to.equal('2');
  });

  it('when the path is exempt, then it is neither counted nor limited', async () => {
    for (let i = 0; i < 10; i++) await call('1.1.1.1', '/health');

    const res = await call('1.1.1.1');

    expect(passed.count).to.equal(11);
    expect(res.headers['RateLimit-Remaining']).to.equal('2');
  });
});
