import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../lib/logger';

const PASSWORD = 'hunter2-correct-horse';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-token-body.signature';
const REFRESH = 'refresh-9f86d081884c7d659a2feaa0c55ad015';

/** A logger writing into memory, and the lines it wrote. */
function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: 'trace', name: 'logger-test', destination });
  return { logger, lines, last: () => JSON.parse(lines.at(-1) as string) };
}

describe('logger', () => {
  it('when a line is written, then it is JSON with a level label, service name and ISO time', () => {
    const { logger, last } = capturingLogger();

    logger.info({ orderId: 'o-1' }, 'order placed');

    expect(last()).to.include({ level: 'info', service: 'logger-test', msg: 'order placed', orderId: 'o-1' });
    expect(new Date(last().time).toISOString()).to.equal(last().time);
  });

  const cases: [string, Record<string, unknown>][] = [
    ['a password at the top', { password: PASSWORD }],
    ['a password in a body', { body: { email: 'a@example.test', password: PASSWORD } }],
    ['a password in a request body', { req: { body: { password: PASSWORD } } }],
    ['a new password', { newPassword: PASSWORD }],
    ['a password hash', { user: { id: 'u-1', passwordHash: `scrypt$16384$8$1$salt$${PASSWORD}` } }],
    ['an access token', { accessToken: TOKEN }],
    ['a session', { session: { accessToken: TOKEN, refreshToken: REFRESH } }],
    ['a session inside a result', { result: { session: { accessToken: TOKEN, refreshToken: REFRESH } } }],
    ['a refresh token in a body', { body: { refreshToken: REFRESH } }],
    ['a bare token', { token: TOKEN }],
    ['an Authorization header of a request', { req: { headers: { authorization: `Bearer ${TOKEN}` } } }],
    ['an Authorization header', { headers: { authorization: `Bearer ${TOKEN}` } }],
    ['an Authorization header with a capital A', { headers: { Authorization: `Bearer ${TOKEN}` } }],
    ['an authorization field', { authorization: `Bearer ${TOKEN}` }],
    ['a nested request with headers', { request: { headers: { authorization: `Bearer ${TOKEN}` } } }],
    ['a cookie header', { req: { headers: { cookie: `session=${TOKEN}` } } }],
    ['a MercadoPago signature', { headers: { 'x-signature': `ts=1,v1=${TOKEN}` } }],
    ['the JWT secret in the config', { config: { auth: { jwtSecret: TOKEN } } }],
    ['the MercadoPago credentials', { config: { mercadopago: { accessToken: TOKEN, webhookSecret: PASSWORD } } }],
  ];
  for (const [what, fields] of cases) {
    it(`when ${what} is logged, then the line shows [redacted] instead`, () => {
      const { logger, lines } = capturingLogger();

      logger.warn(fields, 'something happened');

      expect(lines).to.have.length(1);
      expect(lines[0]).not.to.include(PASSWORD);
      expect(lines[0]).not.to.include(TOKEN);
      expect(lines[0]).not.to.include(REFRESH);
      expect(lines[0]).to.include('[redacted]');
    });
  }

  it('when a child logger is bound to a secret, then its lines do not carry it', () => {
    const { logger, lines } = capturingLogger();

    logger.child({ token: TOKEN }).info('from the child');

    expect(lines[0]).not.to.include(TOKEN);
  });

  it('when a secret is redacted, then the fields around it are kept', () => {
    const { logger, last } = capturingLogger();

    logger.info({ body: { email: 'a@example.test', password: PASSWORD } }, 'login');

    expect(last().body).to.deep.equal({ email: 'a@example.test', password: '[redacted]' });
  });

  it('when the logged object is reused afterwards, then the caller still sees its own values', () => {
    const { logger } = capturingLogger();
    const body = { password: PASSWORD };

    logger.info({ body }, 'login');

    expect(body.password).to.equal(PASSWORD);
  });
});
