import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import pino, { type Logger, type DestinationStream, type StreamEntry } from 'pino';

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

/**
 * Fields every line written inside `fn` carries, whichever logger writes it: the request id in
 * the API, the workflow and order ids in activities. Services log through the root logger they
 * were built with, so a child logger could not reach them.
 */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return logContext.run({ ...logContext.getStore(), ...defined }, fn);
}

export interface LogFileOptions {
  path: string;
  /** Size at which the file is rotated, in pino-roll's notation (`10m`, `512k`). */
  maxSize?: string;
  /** Rotated files kept besides the active one. */
  keep?: number;
}

export interface LoggerOptions {
  level: string;
  name: string;
  destination?: DestinationStream;
  /**
   * LOG_FILE: lines also go to this file, rotated by size. pino-roll numbers every file,
   * the active one too (`api.log` is written as `api.1.log`, `api.2.log`...).
   */
  file?: string | LogFileOptions;
}

// A day of busy API logs is a few hundred MB: 5 x 50 MB keeps a couple of days on one host.
const DEFAULT_FILE_SIZE = '50m';
const DEFAULT_FILES_KEPT = 5;

/** JSON lines into a size-rotated file, written by pino-roll in a worker thread. */
function rotatingFile(options: LogFileOptions): DestinationStream {
  return pino.transport({
    target: 'pino-roll',
    options: {
      file: path.resolve(options.path),
      size: options.maxSize ?? DEFAULT_FILE_SIZE,
      limit: { count: options.keep ?? DEFAULT_FILES_KEPT },
      mkdir: true,
    },
  });
}

function destinations(level: string, destination?: DestinationStream, file?: string | LogFileOptions) {
  if (!file || level === 'silent') return destination;
  const streams: StreamEntry[] = [
    { level: level as pino.Level, stream: destination ?? pino.destination(1) },
    { level: level as pino.Level, stream: rotatingFile(typeof file === 'string' ? { path: file } : file) },
  ];
  return pino.multistream(streams);
}

export function createLogger({ level, name, destination, file }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // A copy: pino merges each line's own fields into what the mixin returns.
      mixin: () => ({ ...logContext.getStore() }),
    },
    destinations(level, destination, file),
  );
}
