import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Field names that hold credentials, wherever they appear in a logged object. */
export const SECRET_FIELDS = [
  'password',
  'newPassword',
  'passwordHash',
  'accessToken',
  'refreshToken',
  'token',
  'secret',
  'jwtSecret',
  'webhookSecret',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'x-signature',
];

const field = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`);
const under = (prefix: string, name: string) => (field(name).startsWith('[') ? `${prefix}${field(name)}` : `${prefix}.${name}`);

/**
 * Paths pino blanks before a line is written: each secret field at the top and up to two objects
 * deep (`req.headers.authorization`, `config.mercadopago.accessToken`, `result.session.refreshToken`).
 * Passwords, tokens and signatures must never reach a log collector, whichever object they travel in.
 */
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((name) => [field(name), under('*', name), under('*.*', name)]);

export interface LoggerOptions {
  level: string;
  name: string;
  destination?: DestinationStream;
}

export function createLogger({ level, name, destination }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
