// nginx/nginx.prod.conf: `nginx -t` with the real binary (Debian package "nginx"),
// the directives we rely on, and its behaviour when run against a stub upstream.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  adaptConfig,
  CONFIG,
  freePort,
  handshake,
  nginxVersion,
  request,
  waitForPort,
  type Response,
  type SeenRequest,
} from './nginx-harness';
import { describeFailure, readRepoFile, requireTool, run } from './support';

describe('ops: nginx production config', function () {
  const original = readRepoFile(CONFIG);
  let nginx: string;
  let dir: string;
  let confPath: string;
  let httpPort: number;
  let httpsPort: number;
  let upstream: http.Server;
  let seen: SeenRequest[];
  let proc: ChildProcess | undefined;

  before(async function () {
    nginx = requireTool('nginx', 'nginx');
    const openssl = requireTool('openssl', 'openssl');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cafe-flow-nginx-'));
    fs.chmodSync(dir, 0o755); // nginx workers run as an unprivileged user and write temp files here
    const cert = run(openssl, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=cafe.example.com',
      '-keyout',
      path.join(dir, 'privkey.pem'),
      '-out',
      path.join(dir, 'fullchain.pem'),
    ]);
    expect(cert.status, describeFailure(cert)).to.equal(0);

    seen = [];
    upstream = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json', 'x-frame-options': 'SAMEORIGIN', 'x-powered-by': 'koa' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));

    [httpPort, httpsPort] = [await freePort(), await freePort()];
    confPath = path.join(dir, 'nginx.conf');
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    fs.writeFileSync(confPath, adaptConfig(original, { dir, httpPort, httpsPort, upstreamPort, version: nginxVersion(nginx) }));
  });

  after(async function () {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc?.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => upstream?.close(resolve));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when nginx -t reads the config, then it is valid', function () {
    const result = run(nginx, ['-t', '-c', confPath, '-p', dir, '-e', path.join(dir, 'error.log')]);
    expect(result.status, describeFailure(result)).to.equal(0);
  });

  describe('directives', function () {
    const webhookBlock = /location = \/v1\/webhooks\/mercadopago \{([^}]*(\{[^}]*\}[^}]*)*)\}/.exec(original)?.[1] ?? '';

    it('when limiting requests, then it is 100 r/m per client IP answered with 429', function () {
      expect(original).to.match(/limit_req_zone \$binary_remote_addr zone=per_ip:\d+m rate=100r\/m;/);
      expect(original).to.match(/limit_req_status 429;/);
      expect(original).to.match(/location \/ \{\s*limit_req zone=per_ip/);
    });

    it('when answering, then HSTS and the other security headers are added always', function () {
      expect(original).to.match(/add_header Strict-Transport-Security "max-age=\d+; includeSubDomains" always;/);
      for (const header of ['X-Content-Type-Options', 'X-Frame-Options', 'Referrer-Policy', 'X-Request-Id']) {
        expect(original).to.match(new RegExp(`add_header ${header} .+ always;`));
      }
      for (const line of original.split('\n').filter((l) => /^\s*add_header /.test(l))) expect(line).to.match(/ always;$/);
    });

    it('when serving TLS, then it follows the Mozilla intermediate profile', function () {
      expect(original).to.include('ssl_protocols TLSv1.2 TLSv1.3;');
      expect(original).to.include('ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:');
      expect(original).to.include('ssl_session_tickets off;');
      expect(original).to.include('ssl_certificate /etc/nginx/certs/fullchain.pem;');
      expect(original).to.include('ssl_certificate_key /etc/nginx/certs/privkey.pem;');
    });

    it('when logging, then the access log is JSON with the request id', function () {
      expect(original).to.match(/log_format json_access escape=json/);
      expect(original).to.include('"request_id":"$req_id"');
      expect(original).to.include('proxy_set_header X-Request-Id $req_id;');
    });

    it('when MercadoPago posts a webhook, then its location has no limit_req and a small body limit', function () {
      expect(webhookBlock).to.not.equal('');
      expect(webhookBlock).to.not.include('limit_req');
      expect(webhookBlock).to.match(/client_max_body_size \d+k;/);
    });

    it('when a location is declared, then it does not add_header (which would drop the server-level headers)', function () {
      const code = original.replace(/#.*$/gm, '');
      const locations = code.split(/\n\s*location /).slice(1);
      for (const block of locations) expect(block.split('\n        }')[0]).to.not.include('add_header');
    });
  });

  describe('behaviour against a stub API', function () {
    before(async function () {
      proc = spawn(nginx, ['-c', confPath, '-p', dir, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
        stdio: 'ignore',
      });
      await waitForPort(httpsPort, 10_000);
      await waitForPort(httpPort, 10_000);
    });

    it('when a client uses plain HTTP, then it is redirected to HTTPS except for ACME challenges', async function () {
      const redirect = await request(httpPort, { path: '/v1/orders?page=2', from: '127.0.0.2', secure: false });
      expect(redirect.status).to.equal(301);
      expect(redirect.headers.location).to.equal('https://cafe.example.com/v1/orders?page=2');
      const acme = await request(httpPort, { path: '/.well-known/acme-challenge/token', from: '127.0.0.2', secure: false });
      expect(acme.status).to.equal(404);
    });

    it('when proxying, then security headers replace the upstream ones and client-sent X-Forwarded-For is overwritten', async function () {
      const res = await request(httpsPort, {
        path: '/v1/ping',
        headers: { 'x-forwarded-for': '6.6.6.6' },
        from: '127.0.0.3',
        secure: true,
      });
      expect(res.status).to.equal(200);
      expect(res.headers['strict-transport-security']).to.equal('max-age=63072000; includeSubDomains');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-frame-options']).to.equal('DENY');
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
      expect(res.headers['x-powered-by']).to.equal(undefined);
      expect(res.headers.server).to.equal('nginx');
      const upstreamSaw = seen.at(-1);
      expect(upstreamSaw?.headers['x-forwarded-for']).to.equal('127.0.0.3');
      expect(upstreamSaw?.headers['x-forwarded-proto']).to.equal('https');
      expect(upstreamSaw?.headers['x-request-id']).to.match(/^[0-9a-f]{32}$/);
      expect(res.headers['x-request-id']).to.equal(upstreamSaw?.headers['x-request-id']);
    });

    it('when a client sends an X-Request-Id, then a well-formed one is kept and a malformed one replaced', async function () {
      const kept = await request(httpsPort, {
        path: '/v1/ping',
        headers: { 'x-request-id': 'req-0123456789abcdef' },
        from: '127.0.0.4',
        secure: true,
      });
      expect(kept.headers['x-request-id']).to.equal('req-0123456789abcdef');
      expect(seen.at(-1)?.headers['x-request-id']).to.equal('req-0123456789abcdef');
      const replaced = await request(httpsPort, {
        path: '/v1/ping',
        headers: { 'x-request-id': 'x"}' },
        from: '127.0.0.4',
        secure: true,
      });
      expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f]{32}$/);
    });

    it('when someone asks for /metrics, then nginx answers 404 without reaching the API', async function () {
      const before = seen.length;
      for (const p of ['/metrics', '/metrics/', '/metricsx']) {
        const res = await request(httpsPort, { path: p, from: '127.0.0.6', secure: true });
        expect(res.status, p).to.equal(404);
      }
      expect(seen.length).to.equal(before);
    });

    it('when one IP exceeds 100 r/m plus burst, then it gets JSON 429s with security headers, but webhooks still pass', async function () {
      const statuses: number[] = [];
      let rejected: Response | undefined;
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        const res = await request(httpsPort, { path: '/v1/menu', from: '127.0.0.5', secure: true });
        statuses.push(res.status);
        if (res.status === 429) rejected ??= res;
      }
      // 1 + burst 20 pass at once, then one more every 600 ms (100 r/m).
      const refills = Math.ceil((Date.now() - started) / 600);
      expect(
        statuses.slice(0, 21).every((s) => s === 200),
        statuses.join(','),
      ).to.equal(true);
      expect(statuses.filter((s) => s === 200).length, statuses.join(',')).to.be.at.most(21 + refills);
      expect(statuses.filter((s) => s === 429).length, statuses.join(',')).to.be.at.least(1);
      expect(rejected?.body).to.equal('{"error":"too_many_requests"}');
      expect(rejected?.headers['content-type']).to.match(/^application\/json/);
      expect(rejected?.headers['strict-transport-security']).to.match(/^max-age=/);

      const body = JSON.stringify({ type: 'payment', data: { id: '123' } });
      for (let i = 0; i < 30; i++) {
        const res = await request(httpsPort, {
          path: '/v1/webhooks/mercadopago?data.id=123&type=payment',
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          from: '127.0.0.5',
          secure: true,
        });
        expect(res.status, `webhook ${i}`).to.equal(200);
      }
    });

    it('when a webhook is too large or not a POST, then nginx rejects it', async function () {
      const big = 'x'.repeat(100 * 1024);
      const tooLarge = await request(httpsPort, {
        path: '/v1/webhooks/mercadopago',
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
        from: '127.0.0.7',
        secure: true,
      });
      expect(tooLarge.status).to.equal(413);
      const get = await request(httpsPort, { path: '/v1/webhooks/mercadopago', from: '127.0.0.7', secure: true });
      expect(get.status).to.equal(403);
    });

    it('when a client negotiates TLS, then 1.3 is preferred, 1.2 with AEAD works and CBC suites are refused', async function () {
      expect(await handshake(httpsPort, {})).to.equal('TLSv1.3');
      expect(await handshake(httpsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).to.equal('TLSv1.2');
      const refused = await handshake(httpsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' }).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      expect(refused?.code, 'the server, not the client, must refuse the CBC suite').to.match(
        /ALERT_HANDSHAKE_FAILURE|NO_SHARED_CIPHER/,
      );
    });
  });
});
