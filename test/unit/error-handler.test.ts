import { expect } from 'chai';
import { errorHandler } from '../../api/http/error-handler';
import type { AppContext } from '../../api/http/context';
import { AppError } from '../../lib/errors';

/** Just what the error handler touches on a Koa context. */
function fakeContext(method = 'GET', path = '/v1/things') {
  const headers: Record<string, string> = {};
  const logged: unknown[] = [];
  const ctx = {
    method,
    path,
    status: 404,
    body: undefined as unknown,
    state: { requestId: 'req-1', log: { error: (fields: unknown) => logged.push(fields) } },
    set: (name: string, value: string) => (headers[name] = value),
  };
  return { ctx, headers, logged };
}

async function handle(thrown: unknown) {
  const reported: unknown[] = [];
  const fake = fakeContext();
  await errorHandler((error) => reported.push(error))(fake.ctx as unknown as AppContext, async () => {
    throw thrown;
  });
  return { ...fake, reported };
}

const libraryError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('error handler', () => {
  it('when an AppError is thrown, then its status, code, message, details and headers reach the client', async () => {
    const { ctx, headers, reported } = await handle(
      new AppError(429, 'TOO_MANY_LOGIN_ATTEMPTS', 'Slow down', [{ why: 'x' }], { 'Retry-After': '30' }),
    );

    expect(ctx.status).to.equal(429);
    expect(ctx.body).to.deep.equal({ error: { code: 'TOO_MANY_LOGIN_ATTEMPTS', message: 'Slow down', details: [{ why: 'x' }] } });
    expect(headers['Retry-After']).to.equal('30');
    expect(reported).to.deep.equal([]);
  });

  it('when an AppError has no details, then the body has no details key', async () => {
    const { ctx } = await handle(new AppError(404, 'NOT_FOUND', 'Business not found'));

    expect(ctx.body).to.deep.equal({ error: { code: 'NOT_FOUND', message: 'Business not found' } });
  });

  it('when an unexpected error is thrown, then a generic 500 with the request id, and the error goes to the log and the reporter', async () => {
    const boom = new Error('relation "users" does not exist at password=secret');

    const { ctx, logged, reported } = await handle(boom);

    expect(ctx.status).to.equal(500);
    expect(ctx.body).to.deep.equal({
      error: { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side', requestId: 'req-1' },
    });
    expect(JSON.stringify(ctx.body)).not.to.include('relation');
    expect(logged).to.deep.equal([{ err: boom }]);
    expect(reported).to.deep.equal([boom]);
  });

  const mapped: [string, unknown, number, string][] = [
    [
      'the body parser finds a body too large',
      libraryError('too large', { type: 'entity.too.large', status: 413 }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'co-body cannot parse the JSON',
      Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400 }),
      400,
      'INVALID_JSON',
    ],
    [
      'body-parser reports a parse failure',
      libraryError('bad', { type: 'entity.parse.failed', status: 400 }),
      400,
      'INVALID_JSON',
    ],
    ['the charset is unsupported', libraryError('charset', { status: 415, expose: true }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['Postgres reports a unique violation', libraryError('duplicate key', { code: '23505' }), 409, 'CONFLICT'],
    [
      'objection wraps a unique violation',
      libraryError('UniqueViolationError', { nativeError: { code: '23505' } }),
      409,
      'CONFLICT',
    ],
    ['Postgres cannot parse a uuid', libraryError('invalid input syntax', { code: '22P02' }), 400, 'VALIDATION_FAILED'],
    [
      'the upload was aborted',
      libraryError('request aborted', { status: 400, expose: true, type: 'request.aborted' }),
      400,
      'BAD_REQUEST',
    ],
  ];
  for (const [what, error, status, code] of mapped) {
    it(`when ${what}, then ${status} ${code}`, async () => {
      const { ctx, reported } = await handle(error);

      expect(ctx.status).to.equal(status);
      expect((ctx.body as { error: { code: string } }).error.code).to.equal(code);
      expect(reported).to.deep.equal([]);
    });
  }

  for (const [what, error] of [
    ['Postgres refuses connections', libraryError('connect ECONNREFUSED', { code: 'ECONNREFUSED' })],
    ['Postgres is shutting down', libraryError('terminating connection', { code: '57P01' })],
    ['the pool times out', Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })],
    ['Temporal is unavailable', Object.assign(new Error('14 UNAVAILABLE'), { name: 'ServiceError' })],
    [
      'the refusal is the cause of a wrapper',
      new Error('query failed', { cause: libraryError('refused', { code: 'ECONNREFUSED' }) }),
    ],
  ] as const) {
    it(`when ${what}, then 503 SERVICE_UNAVAILABLE with Retry-After`, async () => {
      const { ctx, headers } = await handle(error);

      expect(ctx.status).to.equal(503);
      expect((ctx.body as { error: { code: string } }).error.code).to.equal('SERVICE_UNAVAILABLE');
      expect(headers['Retry-After']).to.equal('5');
    });
  }

  it('when nothing answered the request, then 404 ROUTE_NOT_FOUND naming the method and path', async () => {
    const fake = fakeContext('POST', '/v1/nowhere');

    await errorHandler(() => undefined)(fake.ctx as unknown as AppContext, async () => undefined);

    expect(fake.ctx.status).to.equal(404);
    expect(fake.ctx.body).to.deep.equal({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route for POST /v1/nowhere' } });
  });

  it('when a route answered 404 with a body, then that body is kept', async () => {
    const fake = fakeContext();
    const body = { error: { code: 'NOT_FOUND', message: 'Order not found' } };

    await errorHandler(() => undefined)(fake.ctx as unknown as AppContext, async () => {
      fake.ctx.body = body;
    });

    expect(fake.ctx.body).to.equal(body);
  });
});
