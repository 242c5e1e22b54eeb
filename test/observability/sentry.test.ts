import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import * as Sentry from '@sentry/node';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createDb, dropDatabase, ensureDatabase, withDatabase, type Db } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { createMetrics } from '../../lib/metrics';
import { initSentry } from '../../lib/sentry';
import { testConfig, testDatabaseUrl } from '../support/env';
import { httpClient, uniqueClientIp } from '../support/http';
import { eventually } from '../support/orders';
import { LogCapture } from '../support/stack';
import { temporalDevServer } from '../support/temporal';
import { startDeployedStack, type DeployedStack } from './processes';

const PASSWORD = `pw-${randomUUID()}`;
const BEARER = `bearer-${randomUUID()}`;
const QUERY_TOKEN = `query-token-${randomUUID()}`;
const JWT_SECRET = `jwt-secret-${randomUUID()}`;

interface Envelope {
  raw: string;
  items: { header: { type: string }; payload: Record<string, any> }[];
}

/** A stand-in for sentry.io: keeps every envelope the SDK posts. */
async function startSentryReceiver() {
  const envelopes: Envelope[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw = (req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(body) : body).toString('utf8');
      const [, ...lines] = raw.split('\n').filter(Boolean);
      const items = [];
      for (let i = 0; i + 1 < lines.length; i += 2)
        items.push({ header: JSON.parse(lines[i]!), payload: JSON.parse(lines[i + 1]!) });
      envelopes.push({ raw: `${req.url}\n${JSON.stringify(req.headers)}\n${raw}`, items });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    events: () => envelopes.flatMap((e) => e.items.filter((item) => item.header.type === 'event').map((item) => item.payload)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A database without our tables: every query of a route fails with an error that is neither a
 * client error nor "unavailable", i.e. a real unhandled 500.
 */
async function emptyDatabase() {
  const name = `cafe_flow_sentry_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const adminUrl = withDatabase(testDatabaseUrl(), 'postgres');
  await ensureDatabase(adminUrl, name);
  return { url: withDatabase(testDatabaseUrl(), name), drop: () => dropDatabase(adminUrl, name) };
}

/** A login that fails on the broken database, carrying every kind of credential a request can. */
const failingLogin = (baseUrl: string, requestId: string) =>
  httpClient(baseUrl, { 'x-forwarded-for': uniqueClientIp() }).post(
    `/v1/auth/login?token=${QUERY_TOKEN}`,
    { email: 'someone@example.test', password: PASSWORD },
    { headers: { authorization: `Bearer ${BEARER}`, 'x-request-id': requestId, cookie: `session=${BEARER}` } },
  );

describe('observability: Sentry', function () {
  this.timeout(120_000);
  let database: Awaited<ReturnType<typeof emptyDatabase>>;

  before(async function () {
    database = await emptyDatabase();
  });

  after(async function () {
    await database?.drop();
  });

  describe('with SENTRY_DSN unset', function () {
    let db: Db;
    after(async function () {
      await db?.destroy();
    });

    it('when an unhandled error answers 500, then Sentry is not initialised and the error is only logged', async function () {
      const config = testConfig({ DATABASE_URL: database.url });
      const logs = new LogCapture();
      db = createDb({ url: database.url, poolMax: 2 });
      const { app, close } = createApp({
        config,
        db,
        logger: createLogger({ level: 'info', name: 'sentry-unset', destination: logs }),
        metrics: createMetrics({ defaultMetrics: false }),
        temporal: (await temporalDevServer()).client,
        readiness: {},
        reportError: initSentry(config, 'cafe-flow-api'),
      });
      const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const requestId = `req-${randomUUID()}`;

      try {
        const response = await failingLogin(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, requestId);
        expect(response.status).to.equal(500);
      } finally {
        await close();
        server.closeAllConnections();
        server.close();
      }

      expect(initSentry(config, 'cafe-flow-api')).to.equal(undefined);
      expect(Sentry.isInitialized()).to.equal(false);
      expect(Sentry.getClient()).to.equal(undefined);
      const logged = logs.lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'unhandled error');
      expect(logged).to.include({ requestId });
    });
  });

  describe('with SENTRY_DSN set', function () {
    let receiver: Awaited<ReturnType<typeof startSentryReceiver>>;
    let stack: DeployedStack;

    before(async function () {
      receiver = await startSentryReceiver();
      stack = await startDeployedStack('sentry', {
        withWorker: false,
        env: { SENTRY_DSN: receiver.dsn, SENTRY_ENVIRONMENT: 'test', DATABASE_URL: database.url, JWT_SECRET },
      });
    });

    after(async function () {
      await stack?.stop();
      await receiver?.close();
    });

    it('when a request fails with an unhandled error, then Sentry receives it with the request context and no secret', async function () {
      const requestId = `req-${randomUUID()}`;

      const response = await failingLogin(stack.apiUrl, requestId);

      expect(response.status).to.equal(500);
      expect(response.body.error).to.include({ code: 'INTERNAL_ERROR', requestId });
      const [event] = await eventually(
        async () => receiver.events(),
        (events) => events.length > 0,
      );
      expect(event!.exception.values[0].value).to.match(/relation .* does not exist/);
      expect(event!.tags).to.include({ service: 'cafe-flow-api', route: '/v1/auth/login', method: 'POST' });
      expect(event!.contexts['cafe-flow']).to.include({ requestId, route: '/v1/auth/login' });
      expect(event!.environment).to.equal('test');
      expect(event!.request).to.include({ method: 'POST' });
      expect(event!.request.url).to.include('/v1/auth/login');
      expect(event!.request.data).to.equal(undefined);

      const everything = receiver.envelopes.map((e) => e.raw).join('\n');
      const secrets = [PASSWORD, BEARER, QUERY_TOKEN, JWT_SECRET, stack.emulator.accessTokens[0], stack.emulator.webhookSecret];
      expect(secrets.filter((secret) => everything.includes(secret as string))).to.deep.equal([]);
    });
  });
});
