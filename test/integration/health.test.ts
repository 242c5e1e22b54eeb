import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { AccessTokens } from '../../api/auth/tokens';
import { createDb, pingDb, type Db } from '../../db/knex';
import { pingTemporal } from '../../lib/temporal';
import { httpClient } from '../support/http';
import { type TestStack } from '../support/stack';
import { useOrderStack } from '../support/use-stack';

/** A port that was just free: nothing listens there, so connecting is refused at once. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The real app, served in-process, with the stack's Temporal but a Postgres of the caller's choosing. */
async function serveAppWithDb(stack: TestStack, db: Db) {
  const { app, close } = createApp({
    config: stack.config,
    db,
    logger: stack.logger,
    metrics: stack.metrics,
    temporal: stack.client,
    readiness: { postgres: () => pingDb(db), temporal: () => pingTemporal(stack.client) },
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    api: httpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    async stop() {
      await close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('health and readiness', () => {
  const the = useOrderStack({ name: 'health', withWorker: false, cafe: false, customer: false });

  it('when /health is called, then 200 {status: ok}', async () => {
    const res = await the.api.get('/health');

    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('when Postgres and Temporal are up, then /ready is 200 with both checks up', async () => {
    const res = await the.api.get('/ready');

    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('ready');
    expect(res.body.checks).to.have.keys(['postgres', 'temporal']);
    for (const check of Object.values(res.body.checks) as { status: string; latencyMs: number }[]) {
      expect(check.status).to.equal('up');
      expect(check.latencyMs).to.be.a('number').and.at.least(0);
    }
  });

  it('when /ready is relayed by a proxy and every dependency is up, then 200 with the same stable shape', async () => {
    const res = await the.api.get('/ready', { headers: { 'x-forwarded-for': '203.0.113.7' } });

    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ready', checks: { postgres: { status: 'up' }, temporal: { status: 'up' } } });
  });

  describe('with Postgres unreachable', () => {
    let deadDb: Db;
    let served: Awaited<ReturnType<typeof serveAppWithDb>>;

    before(async () => {
      deadDb = createDb({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/cafe_flow`, poolMax: 1 });
      served = await serveAppWithDb(the.stack, deadDb);
    });
    after(async () => {
      await served?.stop();
      await deadDb?.destroy();
    });

    it('when /ready is called from this host, then 503 naming why postgres is down, without credentials', async () => {
      const res = await served.api.get('/ready');

      expect(res.status).to.equal(503);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.body.status).to.equal('not_ready');
      expect(res.body.checks.postgres.status).to.equal('down');
      expect(res.body.checks.postgres.error).to.match(/ECONNREFUSED/);
      expect(res.body.checks.temporal.status).to.equal('up');
      expect(JSON.stringify(res.body)).not.to.include('postgres://');
    });

    for (const [what, headers] of [
      ['relayed by a proxy (X-Forwarded-For)', { 'x-forwarded-for': '203.0.113.7' }],
      ['relayed with a Forwarded header', { forwarded: 'for=203.0.113.7;proto=https' }],
      ['relayed with X-Real-IP', { 'x-real-ip': '203.0.113.7' }],
    ] as const) {
      it(`when /ready is ${what}, then 503 with only up or down per dependency, and the reason only in the log`, async () => {
        const res = await served.api.get('/ready', { headers: { ...headers, 'x-request-id': `ready-public-${what.length}` } });

        expect(res.status).to.equal(503);
        expect(res.body).to.deep.equal({
          status: 'not_ready',
          checks: { postgres: { status: 'down' }, temporal: { status: 'up' } },
        });
        const logged = the.stack.logs.lines
          .map((line) => JSON.parse(line))
          .find((entry) => entry.msg === 'readiness check failed' && entry.requestId === `ready-public-${what.length}`);
        expect(logged, 'the failure is logged with its reason').to.include({ check: 'postgres', status: 'down' });
        expect(logged.error).to.match(/ECONNREFUSED/);
      });
    }

    it('when /health is called, then it is still 200 (the process itself is alive)', async () => {
      const res = await served.api.get('/health');

      expect(res.status).to.equal(200);
    });

    it('when an API call needs the database, then 503 SERVICE_UNAVAILABLE with Retry-After, not a 500', async () => {
      const token = await new AccessTokens(the.stack.config.auth.jwtSecret, 60).sign({
        userId: '00000000-0000-4000-8000-000000000000',
        email: 'someone@example.test',
      });

      const res = await served.api.get('/v1/me', { token: token.token });

      expect(res.status).to.equal(503);
      expect(res.body.error.code).to.equal('SERVICE_UNAVAILABLE');
      expect(res.headers.get('retry-after')).to.equal('5');
    });
  });

  describe('with the database pool shut down', () => {
    it('when /ready is called, then 503 with postgres down', async () => {
      const db = createDb({ url: the.stack.config.database.url as string, poolMax: 1 });
      await pingDb(db);
      await db.destroy();
      const served = await serveAppWithDb(the.stack, db);

      try {
        const res = await served.api.get('/ready');

        expect(res.status).to.equal(503);
        expect(res.body.checks.postgres.status).to.equal('down');
        expect(res.body.checks.postgres.error).to.be.a('string').with.length.greaterThan(0);
      } finally {
        await served.stop();
      }
    });
  });
});
