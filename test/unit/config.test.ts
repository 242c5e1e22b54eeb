import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../lib/config';

// Values as `openssl rand` makes them, so the production strength checks pass.
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'h2+QIaOR5wSGejTpHBsg9umMZyj+MfcINJDBcvVrczoPxm9NDxY85H0PXI9FHgwi',
  DATABASE_URL: 'postgres://cafe:pw@db:5432/cafe',
  TEMPORAL_PAYLOAD_KEYS: 'k1:sNjUQHZr/2SXnZTNt/latsMYdmVuzTNk36+C0TW2WtE=',
  MERCADOPAGO_WEBHOOK_SECRET: '405a173c830718f46fc6d774bbaaeebb50dfcf79864b724720a2022d94ded183',
};

function configError(source: Record<string, string | undefined>, options?: Parameters<typeof loadConfig>[1]): ConfigError {
  try {
    loadConfig(source, options);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('loadConfig accepted an invalid environment');
}

describe('config', () => {
  it('when the environment is empty, then development defaults apply', () => {
    const config = loadConfig({});

    expect(config.env).to.equal('development');
    expect(config.http).to.deep.equal({
      host: '0.0.0.0',
      port: 3000,
      metricsPort: 9464,
      publicBaseUrl: 'http://localhost:3000',
      trustProxy: false,
      allowedOrigins: [],
      rateLimitPerMinute: 100,
      bodyLimit: '100kb',
    });
    expect(config.auth).to.include({
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      loginMaxFailures: 5,
      loginLockSeconds: 900,
      passwordHashCost: 16,
    });
    expect(config.auth.jwtSecret).to.have.length.of.at.least(32);
    expect(config.database).to.deep.equal({ url: undefined, poolMax: 10 });
    expect(config.temporal).to.include({ namespace: 'default', taskQueue: 'cafe-flow', address: undefined });
    expect(config.orders).to.deep.equal({ paymentTimeoutSeconds: 900, acceptTimeoutSeconds: 600 });
  });

  it('when variables are set, then they are parsed into typed values', () => {
    const config = loadConfig({
      PORT: '8080',
      TRUST_PROXY: 'true',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example,',
      RATE_LIMIT_PER_MINUTE: '42',
      PUBLIC_BASE_URL: 'https://api.example/',
      MERCADOPAGO_API_URL: 'https://mp.example/',
      BODY_LIMIT: '1mb',
    });

    expect(config.http.port).to.equal(8080);
    expect(config.http.trustProxy).to.equal(true);
    expect(config.http.allowedOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
    expect(config.http.rateLimitPerMinute).to.equal(42);
    expect(config.http.publicBaseUrl).to.equal('https://api.example');
    expect(config.mercadopago.apiUrl).to.equal('https://mp.example');
    expect(config.http.bodyLimit).to.equal('1mb');
  });

  it('when a variable is an empty string, then it counts as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '' });

    expect(config.http.port).to.equal(3000);
    expect(config.database.url).to.equal(undefined);
  });

  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['TRUST_PROXY', 'maybe'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['PASSWORD_HASH_COST', '10'],
    ['JWT_SECRET', 'too-short'],
    ['BODY_LIMIT', 'a lot'],
    ['ACCESS_TOKEN_TTL_SECONDS', '1.5'],
  ]) {
    it(`when ${name}=${JSON.stringify(value)}, then loading fails naming ${name}`, () => {
      const error = configError({ [name as string]: value });

      expect(error.issues).to.have.length(1);
      expect(error.issues[0]).to.match(new RegExp(`^${name}: `));
      expect(error.message).to.include(name as string);
    });
  }

  it('when several variables are bad, then every one is named at once', () => {
    const error = configError({ PORT: 'x', METRICS_PORT: 'y', LOG_LEVEL: 'z' });

    expect(error.issues.map((issue) => issue.split(':')[0])).to.have.members(['PORT', 'METRICS_PORT', 'LOG_LEVEL']);
  });

  it('when production has every variable it requires, then it loads', () => {
    const config = loadConfig(PRODUCTION);

    expect(config.env).to.equal('production');
    expect(config.auth.jwtSecret).to.equal(PRODUCTION.JWT_SECRET);
    expect(config.database.url).to.equal(PRODUCTION.DATABASE_URL);
  });

  for (const missing of ['JWT_SECRET', 'DATABASE_URL', 'TEMPORAL_PAYLOAD_KEYS', 'MERCADOPAGO_WEBHOOK_SECRET'] as const) {
    it(`when production lacks ${missing}, then loading fails naming it`, () => {
      const error = configError({ ...PRODUCTION, [missing]: undefined });

      expect(error.issues).to.deep.equal([`${missing}: required in production`]);
    });
  }

  it('when production lacks all of them, then every one is named', () => {
    const error = configError({ NODE_ENV: 'production' });

    expect(error.issues).to.deep.equal([
      'JWT_SECRET: required in production',
      'DATABASE_URL: required in production',
      'TEMPORAL_PAYLOAD_KEYS: required in production',
      'MERCADOPAGO_WEBHOOK_SECRET: required in production',
    ]);
  });

  it('when production sets JWT_SECRET to an empty string, then it counts as missing', () => {
    const error = configError({ ...PRODUCTION, JWT_SECRET: '' });

    expect(error.issues).to.deep.equal(['JWT_SECRET: required in production']);
  });

  it('when the error message is shown, then it never contains the value of a secret', () => {
    const error = configError({ ...PRODUCTION, JWT_SECRET: 'short-secret-value', PORT: 'x' });

    expect(error.message).not.to.include('short-secret-value');
  });
});
