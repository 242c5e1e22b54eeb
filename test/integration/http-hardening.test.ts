import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { registerUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { useOrderStack } from '../support/use-stack';

const RATE_LIMIT = 5;
const ALLOWED_ORIGIN = 'https://app.example.test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('HTTP hardening', () => {
  const the = useOrderStack({
    name: 'http-hardening',
    withWorker: false,
    env: {
      TRUST_PROXY: 'true',
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      BODY_LIMIT: '2kb',
      ALLOWED_ORIGINS: `${ALLOWED_ORIGIN}, https://admin.example.test`,
    },
    cafe: false,
    customer: false,
  });
  let api: HttpClient;
  let ip: string;

  // The limit is per client IP: each test is a client of its own.
  beforeEach(() => {
    ip = uniqueClientIp();
    api = httpClient(the.stack.baseUrl, { 'x-forwarded-for': ip });
  });

  describe('errors', () => {
    it('when a body fails validation, then 400 with exactly { error: { code, message, details[] } }', async () => {
      const res = await api.post('/v1/auth/register', { email: 'not-an-email', password: 'short' });

      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.body).to.have.keys(['error']);
      expect(res.body.error).to.have.keys(['code', 'message', 'details']);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.message).to.equal('Invalid request body');
      const paths = res.body.error.details.map((d: { in: string; path: string; message: string }) => {
        expect(d).to.have.keys(['in', 'path', 'message']);
        expect(d.in).to.equal('body');
        return d.path;
      });
      expect(paths).to.have.members(['email', 'password', 'name']);
    });

    it('when the body is not valid JSON, then 400 INVALID_JSON', async () => {
      const res = await api.request('POST', '/v1/auth/login', {
        rawBody: '{"email": "a@example.test", "password": ',
        headers: { 'content-type': 'application/json' },
      });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('INVALID_JSON');
    });

    it('when the JSON body is a bare string, then 400 INVALID_JSON', async () => {
      const res = await api.request('POST', '/v1/auth/login', {
        rawBody: '"hello"',
        headers: { 'content-type': 'application/json' },
      });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('INVALID_JSON');
    });

    it('when the JSON body carries __proto__, then 400 INVALID_JSON', async () => {
      const res = await api.request('POST', '/v1/auth/login', {
        rawBody: '{"email":"a@example.test","password":"x","__proto__":{"admin":true}}',
        headers: { 'content-type': 'application/json' },
      });

      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('INVALID_JSON');
    });

    it('when the body is larger than BODY_LIMIT, then 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await api.post('/v1/auth/login', { email: 'a@example.test', password: 'x'.repeat(3000) });

      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('when a JSON route gets another content type, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await api.request('POST', '/v1/auth/login', {
        rawBody: JSON.stringify({ email: 'a@example.test', password: 'whatever' }),
        headers: { 'content-type': 'text/plain' },
      });

      expect(res.status).to.equal(415);
      expect(res.body.error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    });

    it('when the route does not exist, then 404 ROUTE_NOT_FOUND in the error shape', async () => {
      const res = await api.get('/v1/no-such-thing');

      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route for GET /v1/no-such-thing' } });
    });

    it('when a known route is called with the wrong method, then 405 METHOD_NOT_ALLOWED', async () => {
      const res = await api.delete('/v1/me');

      expect(res.status).to.equal(405);
      expect(res.body.error.code).to.equal('METHOD_NOT_ALLOWED');
      expect(res.headers.get('allow')).to.contain('GET');
    });

    it('when the method is one no route implements (PROPFIND), then 405 METHOD_NOT_ALLOWED with Allow, not a 501', async () => {
      const res = await api.request('PROPFIND', '/v1/me');

      expect(res.status).to.equal(405);
      expect(res.body.error.code).to.equal('METHOD_NOT_ALLOWED');
      expect(res.headers.get('allow')).to.equal('HEAD, GET, OPTIONS');
    });
  });

  describe('security headers', () => {
    for (const [what, call] of [
      ['a JSON answer', (client: HttpClient) => client.get('/health')],
      ['an error', (client: HttpClient) => client.get('/v1/me')],
    ] as const) {
      it(`when the API sends ${what}, then helmet's headers are on it and X-Powered-By is not`, async () => {
        const res = await call(api);

        expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(res.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
        expect(res.headers.get('strict-transport-security')).to.match(/max-age=\d+/);
        expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
        expect(res.headers.get('content-security-policy')).to.include("default-src 'self'");
        expect(res.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
        expect(res.headers.has('x-powered-by')).to.equal(false);
      });
    }
  });

  describe('CORS', () => {
    it('when a listed origin calls, then it is allowed and may read X-Request-Id and Retry-After', async () => {
      const res = await api.get('/health', { headers: { origin: ALLOWED_ORIGIN } });

      expect(res.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);
      expect(res.headers.get('vary')).to.match(/origin/i);
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      expect(exposed).to.include('x-request-id');
      expect(exposed).to.include('retry-after');
    });

    it('when the second listed origin calls, then it is allowed too (the list is trimmed)', async () => {
      const res = await api.get('/health', { headers: { origin: 'https://admin.example.test' } });

      expect(res.headers.get('access-control-allow-origin')).to.equal('https://admin.example.test');
    });

    it('when an unlisted origin calls, then no CORS header is granted', async () => {
      const res = await api.get('/health', { headers: { origin: 'https://evil.example.test' } });

      expect(res.headers.has('access-control-allow-origin')).to.equal(false);
    });

    it('when a listed origin sends a preflight, then 204 allowing Authorization and Idempotency-Key', async () => {
      const res = await api.request('OPTIONS', '/v1/businesses', {
        headers: {
          origin: ALLOWED_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });

      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);
      expect(res.headers.get('access-control-allow-methods')).to.include('POST');
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      expect(allowed).to.include('authorization');
      expect(allowed).to.include('idempotency-key');
      expect(res.headers.get('access-control-max-age')).to.equal('600');
    });

    it('when an unlisted origin sends a preflight, then it is not allowed', async () => {
      const res = await api.request('OPTIONS', '/v1/businesses', {
        headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' },
      });

      expect(res.headers.has('access-control-allow-origin')).to.equal(false);
    });
  });

  describe('request ids', () => {
    it('when the caller sends a sane X-Request-Id, then it is echoed and tags the log lines', async () => {
      const requestId = `trace-${randomUUID()}`;

      const res = await api.get('/health', { headers: { 'x-request-id': requestId } });

      expect(res.headers.get('x-request-id')).to.equal(requestId);
      const line = the.stack.logs.lines.find((l) => l.includes(requestId));
      expect(line, 'an access log line carries the id').to.be.a('string');
      expect(JSON.parse(line as string)).to.include({ requestId, category: 'access', status: 200 });
    });

    it('when the caller sends none, then a UUID is generated', async () => {
      const res = await api.get('/health');

      expect(res.headers.get('x-request-id')).to.match(UUID);
    });

    for (const [what, value] of [
      ['spaces and quotes', 'abc "def"'],
      ['over 128 characters', 'a'.repeat(129)],
    ]) {
      it(`when the caller's X-Request-Id has ${what}, then it is replaced with a UUID`, async () => {
        const res = await api.get('/health', { headers: { 'x-request-id': value as string } });

        expect(res.headers.get('x-request-id')).to.match(UUID);
      });
    }

    it('when a request fails, then the error response carries the request id too', async () => {
      const res = await api.get('/v1/me', { headers: { 'x-request-id': 'failing-request-1' } });

      expect(res.status).to.equal(401);
      expect(res.headers.get('x-request-id')).to.equal('failing-request-1');
    });
  });

  describe('rate limit', () => {
    it(`when a client sends more than ${RATE_LIMIT} requests in a minute, then 429 RATE_LIMITED with Retry-After`, async () => {
      const remaining: string[] = [];
      for (let i = 0; i < RATE_LIMIT; i++) {
        const ok = await api.get('/v1/no-such-thing');
        expect(ok.status).to.equal(404);
        remaining.push(ok.headers.get('ratelimit-remaining') ?? '');
      }

      const res = await api.get('/v1/no-such-thing');

      expect(remaining).to.deep.equal(['4', '3', '2', '1', '0']);
      expect(res.status).to.equal(429);
      expect(res.body.error.code).to.equal('RATE_LIMITED');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).to.be.within(1, 60);
      expect(res.headers.get('ratelimit-limit')).to.equal(String(RATE_LIMIT));
    });

    it('when one client is limited, then another client is still served', async () => {
      for (let i = 0; i <= RATE_LIMIT; i++) await api.get('/v1/no-such-thing');
      expect((await api.get('/v1/no-such-thing')).status).to.equal(429);

      const other = httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() });
      const res = await other.get('/v1/no-such-thing');

      expect(res.status).to.equal(404);
    });

    it('when a limited client calls /health and /ready, then the probes are still answered', async () => {
      for (let i = 0; i <= RATE_LIMIT; i++) await api.get('/v1/no-such-thing');

      const health = await api.get('/health');
      const ready = await api.get('/ready');

      expect(health.status).to.equal(200);
      expect(ready.status).to.equal(200);
    });

    it('when a limited client logs in, then it is refused before any password is checked', async () => {
      const user = await registerUser(httpClient(the.stack.baseUrl, { 'x-forwarded-for': uniqueClientIp() }));
      for (let i = 0; i < RATE_LIMIT; i++) await api.get('/v1/no-such-thing');

      const res = await api.post('/v1/auth/login', { email: user.email, password: user.password });

      expect(res.status).to.equal(429);
      expect(res.body.error.code).to.equal('RATE_LIMITED');
    });
  });
});
