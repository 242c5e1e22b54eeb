import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../lib/config';
import { isPlaceholder, secretWeakness } from '../../lib/config-values';

// Values as `openssl rand` makes them, so the production checks pass.
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'h2+QIaOR5wSGejTpHBsg9umMZyj+MfcINJDBcvVrczoPxm9NDxY85H0PXI9FHgwi',
  DATABASE_URL: 'postgres://cafe:pw@db:5432/cafe',
  TEMPORAL_PAYLOAD_KEYS: 'k1:sNjUQHZr/2SXnZTNt/latsMYdmVuzTNk36+C0TW2WtE=',
  MERCADOPAGO_WEBHOOK_SECRET: '405a173c830718f46fc6d774bbaaeebb50dfcf79864b724720a2022d94ded183',
};

function configError(source: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(source);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('loadConfig accepted an invalid environment');
}

/** The template operators copy, read the way `docker compose --env-file` reads it. */
function productionExample(): Record<string, string> {
  const text = readFileSync(path.join(__dirname, '..', '..', '.env.production.example'), 'utf8');
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) vars[match[1]] = match[2] ?? '';
  }
  return vars;
}

const issueNames = (error: ConfigError) => error.issues.map((issue) => issue.split(':')[0]);

describe('config: placeholders and production secrets', () => {
  describe('the .env.production.example template', () => {
    it('when it is loaded unfilled, then every placeholder the app reads is named and no placeholder text is shown', () => {
      const example = productionExample();

      const error = configError(example);

      expect(issueNames(error)).to.include.members([
        'DATABASE_URL',
        'JWT_SECRET',
        'ALLOWED_ORIGINS',
        'PUBLIC_BASE_URL',
        'MERCADOPAGO_ACCESS_TOKEN',
        'MERCADOPAGO_WEBHOOK_SECRET',
        'SMOKE_BASE_URL',
        'SMTP_URL',
        'MAIL_FROM',
      ]);
      for (const name of ['DATABASE_URL', 'JWT_SECRET', 'MERCADOPAGO_WEBHOOK_SECRET']) {
        expect(error.issues.filter((issue) => issue.startsWith(`${name}:`))).to.deep.equal([
          `${name}: still the placeholder from the example env file; set the real value`,
        ]);
      }
      expect(error.message).not.to.include('<');
      expect(error.message).not.to.include('openssl rand -hex 32');
    });

    it('when every <...> value is filled with a real one, then it loads', () => {
      const filled: Record<string, string> = {};
      for (const [name, value] of Object.entries(productionExample())) {
        filled[name] = value.includes('<') ? randomBytes(36).toString('base64') : value;
      }
      Object.assign(filled, {
        DATABASE_URL: `postgres://cafe_flow:${randomBytes(32).toString('hex')}@postgres:5432/cafe_flow`,
        ALLOWED_ORIGINS: 'https://app.cafe.example.test',
        PUBLIC_BASE_URL: 'https://api.cafe.example.test',
        SMOKE_BASE_URL: 'https://api.cafe.example.test',
        TEMPORAL_PAYLOAD_KEYS: PRODUCTION.TEMPORAL_PAYLOAD_KEYS,
        SMTP_URL: 'smtp://mailer:pw@smtp.cafe.example.test:587',
        MAIL_FROM: 'Café Central <pedidos@cafe.example.test>',
      });

      const config = loadConfig(filled);

      expect(config.env).to.equal('production');
      expect(config.http.publicBaseUrl).to.equal('https://api.cafe.example.test');
    });
  });

  describe('placeholders, in any environment', () => {
    for (const [name, value] of [
      ['DATABASE_URL', 'postgres://cafe_flow:change-me@postgres:5432/cafe_flow'],
      ['DATABASE_URL', 'postgres://cafe_flow:<POSTGRES_PASSWORD>@postgres:5432/cafe_flow'],
      ['JWT_SECRET', 'replace-with-a-long-random-string-of-48-chars'],
      ['JWT_SECRET', '<generate: openssl rand -base64 48>'],
      ['MERCADOPAGO_ACCESS_TOKEN', 'your-access-token'],
      ['MERCADOPAGO_WEBHOOK_SECRET', 'changeme'],
      ['PUBLIC_BASE_URL', 'https://<DOMAIN>'],
    ] as const) {
      it(`when ${name} is ${JSON.stringify(value)} in development, then loading fails naming ${name} without the value`, () => {
        const error = configError({ NODE_ENV: 'development', [name]: value });

        expect(error.issues).to.deep.equal([`${name}: still the placeholder from the example env file; set the real value`]);
        expect(error.message).not.to.include(value);
      });
    }

    it('when MAIL_FROM is a name and an address in angle brackets, then it is not taken for a placeholder', () => {
      const config = loadConfig({ MAIL_FROM: 'Café Central <pedidos@cafe.example.test>' });

      expect(config.mail.from).to.equal('Café Central <pedidos@cafe.example.test>');
    });

    it('when a value merely contains a fill-me-in word inside a longer part, then it is not a placeholder', () => {
      expect(isPlaceholder('postgres://todo_app:pw@db:5432/changes')).to.equal(false);
      expect(isPlaceholder('https://your.cafe.example.test')).to.equal(false);
    });
  });

  describe('weak secrets in production', () => {
    const weak: [name: string, value: string, reason: string][] = [
      ['JWT_SECRET', 'a'.repeat(48), 'fewer than 7 distinct characters'],
      ['JWT_SECRET', 'abcabcabc1abcabcabc1abcabcabc1abcabcabc1', 'fewer than 7 distinct characters'],
      ['JWT_SECRET', 'Kq7vX2mPz9Lw4RtY'.repeat(3), 'a repeated pattern'],
      ['JWT_SECRET', 'abcdefghijklmnopqrstuvwxyz0123456789', 'runs of sequential or repeated characters'],
      ['JWT_SECRET', 'a-production-secret-of-at-least-32-characters', 'a dictionary word or a known default'],
      ['JWT_SECRET', 'cafe-flow-development-secret-do-not-use-in-production', 'a dictionary word or a known default'],
      ['MERCADOPAGO_WEBHOOK_SECRET', '1234567890123456789012345678901234567890', 'a repeated pattern'],
      ['MERCADOPAGO_WEBHOOK_SECRET', 'mercadopago-webhook-password-2026', 'a dictionary word or a known default'],
      ['CODEC_SERVER_AUTH_TOKEN', 'Q'.repeat(40), 'fewer than 7 distinct characters'],
    ];
    for (const [name, value, reason] of weak) {
      it(`when ${name} is ${JSON.stringify(value.slice(0, 24))}…, then production refuses it (${reason}) without showing it`, () => {
        const error = configError({ ...PRODUCTION, [name]: value });

        expect(error.issues).to.deep.equal([
          `${name}: too weak for production (${reason}); generate one with: openssl rand -base64 48`,
        ]);
        expect(error.message).not.to.include(value);
      });
    }

    it('when several secrets are weak, then each is named at once', () => {
      const error = configError({ ...PRODUCTION, JWT_SECRET: 'z'.repeat(40), MERCADOPAGO_WEBHOOK_SECRET: 'y'.repeat(40) });

      expect(issueNames(error)).to.deep.equal(['JWT_SECRET', 'MERCADOPAGO_WEBHOOK_SECRET']);
    });

    it('when development uses a simple secret, then it loads (the strength rules are production rules)', () => {
      const config = loadConfig({ NODE_ENV: 'development', JWT_SECRET: 'a'.repeat(32), MERCADOPAGO_WEBHOOK_SECRET: 'dev' });

      expect(config.auth.jwtSecret).to.equal('a'.repeat(32));
    });

    it('when secrets come from openssl rand (hex and base64, as the docs say), then none is refused', () => {
      const flagged: string[] = [];
      for (let i = 0; i < 2000; i++) {
        for (const value of [
          randomBytes(16).toString('hex'),
          randomBytes(32).toString('hex'),
          randomBytes(24).toString('base64'),
          randomBytes(48).toString('base64'),
        ]) {
          if (secretWeakness(value)) flagged.push(`${value}: ${secretWeakness(value)}`);
        }
      }

      expect(flagged).to.deep.equal([]);
    });
  });
});
