import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createApp } from '../../api/app';
import { createHttpServer } from '../../api/http/allowed-methods';
import { pingDb } from '../../db/knex';
import { pingTemporal } from '../../lib/temporal';
import { startStack, type TestStack } from '../support/stack';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/**
 * fetch refuses TRACE and CONNECT outright, so these requests go through node:http. A CONNECT
 * answer arrives as the 'connect' event (the client treats any answer as the end of the
 * handshake); its body is read from the socket that follows.
 */
function rawRequest(port: number, method: string, path: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { connection: 'close' } });
    const finish = (status: number, headers: http.IncomingHttpHeaders, text: string) =>
      resolve({ status, headers, body: text ? JSON.parse(text) : undefined });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => finish(res.statusCode ?? 0, res.headers, text));
    });
    req.on('connect', (res, socket, head) => {
      let text = head.toString('utf8');
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => finish(res.statusCode ?? 0, res.headers, text));
    });
    req.on('error', reject);
    req.end();
  });
}

const allowOf = (answer: RawAnswer) =>
  String(answer.headers.allow ?? '')
    .split(',')
    .map((method) => method.trim())
    .filter(Boolean)
    .sort();

describe('HTTP methods a route does not offer', () => {
  let stack: TestStack;
  let server: http.Server;
  let port: number;
  let closeApp: () => Promise<void>;

  before(async () => {
    stack = await startStack({ name: 'methods', withWorker: false });
    // The API's own server (api/main.ts), not the test stack's: CONNECT is handled there.
    const { app, close } = createApp({
      config: stack.config,
      db: stack.db,
      logger: stack.logger,
      metrics: stack.metrics,
      temporal: stack.client,
      readiness: { postgres: () => pingDb(stack.db), temporal: () => pingTemporal(stack.client) },
    });
    closeApp = close;
    server = createHttpServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await closeApp?.();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await stack?.stop();
  });

  const cases: [method: string, path: string, allow: string[]][] = [
    ['TRACE', '/v1/me', ['GET', 'HEAD', 'OPTIONS']],
    ['TRACE', '/health', ['GET', 'HEAD', 'OPTIONS']],
    ['TRACE', '/v1/businesses/7f2b8d8e-0000-4000-8000-000000000001', ['GET', 'HEAD', 'OPTIONS', 'PATCH']],
    ['CONNECT', '/v1/businesses', ['GET', 'HEAD', 'OPTIONS', 'POST']],
    ['CONNECT', '/v1/webhooks/mercadopago', ['OPTIONS', 'POST']],
    ['PROPFIND', '/v1/me', ['GET', 'HEAD', 'OPTIONS']],
    ['PURGE', '/v1/auth/login', ['OPTIONS', 'POST']],
    ['LOCK', '/openapi.json', ['GET', 'HEAD', 'OPTIONS']],
    ['DELETE', '/ready', ['GET', 'HEAD', 'OPTIONS']],
    [
      'PUT',
      '/v1/businesses/7f2b8d8e-0000-4000-8000-000000000001/products/7f2b8d8e-0000-4000-8000-000000000002',
      ['DELETE', 'OPTIONS', 'PATCH'],
    ],
  ];
  for (const [method, path, allow] of cases) {
    it(`when ${method} ${path} is sent, then 405 METHOD_NOT_ALLOWED with Allow: ${allow.join(', ')}`, async () => {
      const answer = await rawRequest(port, method, path);

      expect(answer.status).to.equal(405);
      expect(answer.headers['content-type']).to.match(/^application\/json/);
      expect(allowOf(answer)).to.deep.equal(allow);
      expect(answer.body).to.deep.equal({
        error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here; see the Allow header` },
      });
    });
  }

  for (const method of ['TRACE', 'CONNECT', 'PROPFIND']) {
    it(`when ${method} is sent to a path no route serves, then 404 ROUTE_NOT_FOUND without Allow`, async () => {
      const answer = await rawRequest(port, method, '/v1/no-such-thing');

      expect(answer.status).to.equal(404);
      expect(answer.headers.allow).to.equal(undefined);
      expect(answer.body).to.deep.equal({
        error: { code: 'ROUTE_NOT_FOUND', message: `No route for ${method} /v1/no-such-thing` },
      });
    });
  }

  it('when a route offers the method but passes the request on (an unknown docs asset), then 404, not 405', async () => {
    const answer = await rawRequest(port, 'GET', '/docs/package.json');

    expect(answer.status).to.equal(404);
    expect(answer.headers.allow).to.equal(undefined);
    expect(answer.body.error.code).to.equal('ROUTE_NOT_FOUND');
  });

  it('when OPTIONS is sent without a CORS preflight, then 204 with the Allow header', async () => {
    const answer = await rawRequest(port, 'OPTIONS', '/v1/businesses');

    expect(answer.status).to.equal(204);
    expect(allowOf(answer)).to.deep.equal(['GET', 'HEAD', 'OPTIONS', 'POST']);
  });

  it('when a CONNECT was refused, then the server keeps answering other requests', async () => {
    await rawRequest(port, 'CONNECT', '/v1/me');

    const answer = await rawRequest(port, 'GET', '/health');

    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal({ status: 'ok' });
  });

  it('when a refused method is sent, then the access log records it as a 405, not a server error', async () => {
    await rawRequest(port, 'TRACE', '/v1/me?probe=access-log');

    const line = stack.logs.lines.map((text) => JSON.parse(text)).find((entry) => entry.method === 'TRACE');
    expect(line, 'an access log line for the TRACE').to.be.an('object');
    expect(line).to.include({ category: 'access', status: 405 });
  });
});
