import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks before a line is written. Passwords, tokens and signatures must never reach
 * a log collector, whichever object they travel in.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'newPassword',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'headers.authorization',
  'headers["x-signature"]',
  'res.headers["set-cookie"]',
  'mercadopago.accessToken',
  'config.auth.jwtSecret',
  'config.mercadopago.accessToken',
  'config.mercadopago.webhookSecret',
];

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
