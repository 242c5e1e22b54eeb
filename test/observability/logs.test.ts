import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createLogger } from '../../lib/logger';
import { addMember, registerUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { eventually, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';
import { notificationsProcessed, postWebhook } from '../support/payments';
import { LogCapture, startStack, type TestStack } from '../support/stack';
import { startDeployedStack } from './processes';

type LogLine = Record<string, any>;

const parsed = (stack: TestStack): LogLine[] => stack.logs.lines.map((line) => JSON.parse(line));
const withRequestId = (stack: TestStack, requestId: string) => parsed(stack).filter((line) => line.requestId === requestId);
const securityLines = (stack: TestStack, requestId: string) =>
  withRequestId(stack, requestId).filter((l) => l.category === 'security');

/** Every JSON line of the files in `dir`, once they hold one matching `until`. */
async function fileLines(dir: string, until: (lines: LogLine[]) => boolean): Promise<{ files: string[]; lines: LogLine[] }> {
  return eventually(
    async () => {
      const files = fs.readdirSync(dir).sort();
      const text = files.map((file) => fs.readFileSync(path.join(dir, file), 'utf8')).join('');
      return {
        files,
        lines: text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as LogLine),
      };
    },
    ({ lines }) => until(lines),
    15_000,
  );
}

describe('observability: logs', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let api: HttpClient;
  let ip: string;

  before(async function () {
    stack = await startStack({ name: 'logs', env: { TRUST_PROXY: 'true' } });
  });
  beforeEach(function () {
    ip = uniqueClientIp();
    api = httpClient(stack.baseUrl, { 'x-forwarded-for': ip });
  });
  after(async function () {
    await stack?.stop();
  });

  it('when a signed-in request is handled, then exactly one JSON access line carries its id, user, business, route, status, duration and IP', async function () {
    const cafe = await openCafe(api);
    const requestId = `req-${randomUUID()}`;

    const response = await api.get(`/v1/businesses/${cafe.id}/products`, {
      token: cafe.owner.token,
      headers: { 'x-request-id': requestId },
    });

    expect(response.status).to.equal(200);
    const access = withRequestId(stack, requestId).filter((line) => line.category === 'access');
    expect(access).to.have.length(1);
    expect(access[0]).to.include({
      requestId,
      category: 'access',
      level: 'info',
      method: 'GET',
      route: '/v1/businesses/:businessId/products',
      status: 200,
      ip,
      userId: cafe.owner.id,
      businessId: cafe.id,
    });
    expect(access[0]!.durationMs).to.be.a('number').and.at.least(0);
  });

  it('when a login fails, then it is logged as a security event with the request id and the client IP', async function () {
    const user = await registerUser(api);
    const requestId = `req-${randomUUID()}`;

    const response = await api.post(
      '/v1/auth/login',
      { email: user.email, password: 'wrong-password' },
      { headers: { 'x-request-id': requestId } },
    );

    expect(response.status).to.equal(401);
    const lines = securityLines(stack, requestId);
    expect(lines.map((l) => l.event ?? l.msg)).to.have.members(['login_failed', 'request refused']);
    expect(lines.every((l) => l.level === 'warn')).to.equal(true);
    expect(lines.find((l) => l.event === 'login_failed')).to.include({ ip });
  });

  it('when a webhook with a forged signature is rejected, then it is logged as a security event', async function () {
    const { response } = await postWebhook(stack, api, { dataId: String(Date.now()), signature: 'forged' });

    expect(response.status).to.equal(401);
    const requestId = response.headers.get('x-request-id') as string;
    const lines = securityLines(stack, requestId);
    expect(lines.find((l) => l.event === 'webhook_rejected')).to.include({ result: 'invalid_signature' });
    expect(lines.find((l) => l.msg === 'request refused')).to.include({ status: 401, route: '/v1/webhooks/mercadopago' });
  });

  it('when a member without the role is forbidden, then the refusal is logged as a security event', async function () {
    const cafe = await openCafe(api);
    const staff = await registerUser(api, 'Staff');
    await addMember(api, cafe.owner, cafe.id, staff, 'staff');
    const requestId = `req-${randomUUID()}`;

    const response = await api.post(
      `/v1/businesses/${cafe.id}/products`,
      { name: 'Medialuna', priceMinor: 900 },
      { token: staff.token, headers: { 'x-request-id': requestId } },
    );

    expect(response.status).to.equal(403);
    expect(securityLines(stack, requestId)).to.have.length(1);
    expect(securityLines(stack, requestId)[0]).to.include({ status: 403, userId: staff.id, businessId: cafe.id });
  });

  it('when a whole order flow runs, then no password, token or secret appears in any log line, and activity lines carry the workflow and order ids', async function () {
    const customer = await registerUser(api, 'Customer');
    const login = await api.post('/v1/auth/login', { email: customer.email, password: customer.password });
    expect(login.status).to.equal(200);
    const refreshed = await api.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).to.equal(200);
    const cafe = await openCafe(api);
    const order = await placeOrder(api, customer, cafe);
    const payment = await pay(stack, order.payment.preferenceId, 'approved');
    await orderWithStatus(api, customer, order.id, 'paid');
    expect((await postWebhook(stack, api, { dataId: String(payment.id) })).response.status).to.equal(200);
    await notificationsProcessed(stack, [payment.id]);

    const secrets = {
      customerPassword: customer.password,
      ownerPassword: cafe.owner.password,
      accessToken: customer.token,
      loginAccessToken: login.body.accessToken,
      refreshToken: customer.refreshToken,
      loginRefreshToken: login.body.refreshToken,
      rotatedRefreshToken: refreshed.body.refreshToken,
      jwtSecret: stack.config.auth.jwtSecret,
      webhookSecret: stack.emulator.webhookSecret,
      mercadoPagoAccessToken: stack.config.mercadopago.accessToken,
    };
    const leaked = Object.entries(secrets).filter(([, secret]) =>
      stack.logs.lines.some((line) => line.includes(secret as string)),
    );
    expect(stack.logs.lines.length).to.be.greaterThan(20);
    expect(leaked.map(([name]) => name)).to.deep.equal([]);

    const activityLines = await eventually(
      async () => parsed(stack).filter((line) => line.msg === 'activity completed' && line.orderId === order.id),
      (lines) => lines.length > 0,
    );
    for (const line of activityLines) {
      expect(line).to.include({ orderId: order.id, businessId: cafe.id });
      expect(line.activity).to.be.a('string');
      expect(line.workflowId).to.equal(`order:${cafe.id}:${order.id}`);
    }
  });

  it('when LOG_FILE is set, then lines are written there as JSON too and the file rotates by size', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-log-file-'));
    const capture = new LogCapture();
    const logger = createLogger({
      level: 'info',
      name: 'log-file',
      destination: capture,
      file: { path: path.join(dir, 'api.log'), maxSize: '2k', keep: 2 },
    });
    const padding = 'x'.repeat(200);

    try {
      for (let batch = 0; batch < 6; batch += 1) {
        for (let i = 0; i < 10; i += 1) logger.info({ batch, i, padding, password: 'hunter2-in-a-file' }, 'filler');
        // Rotation is checked on each write the file stream makes, so write in several batches.
        await fileLines(dir, (lines) => lines.some((line) => line.batch === batch && line.i === 9));
      }
      const { files, lines } = await fileLines(dir, () => true);

      expect(files.length).to.be.within(2, 3);
      expect(files.every((file) => /^api\.\d+\.log$/.test(file))).to.equal(true);
      expect(lines.every((line) => line.service === 'log-file' && line.msg === 'filler')).to.equal(true);
      expect(lines.every((line) => line.password === '[redacted]')).to.equal(true);
      expect(capture.lines).to.have.length(60);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the API process starts with LOG_FILE, then its start-up and access lines land in the file', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-api-log-'));
    const deployed = await startDeployedStack('log-file', { withWorker: false, env: { LOG_FILE: path.join(dir, 'api.log') } });
    try {
      expect((await fetch(`${deployed.apiUrl}/health`)).status).to.equal(200);

      const { lines } = await fileLines(dir, (all) => all.some((line) => line.route === '/health'));

      expect(lines.find((line) => line.msg === 'api listening')).to.include({ service: 'cafe-flow-api', level: 'info' });
      expect(lines.find((line) => line.route === '/health')).to.include({ category: 'access', status: 200 });
    } finally {
      await deployed.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
