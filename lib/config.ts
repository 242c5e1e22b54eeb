import { z } from 'zod';
import { isPlaceholder, secretWeakness } from './config-values';
import { parsePayloadKeys } from './payload-codec';

/**
 * The one place that reads the environment. Everything else receives the parsed `Config`
 * (or the slice it needs), so a bad variable fails the process at start-up with its name,
 * not hours later inside a request.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** The kinds of work that get a task queue (and a Worker) of their own. */
export const TASK_QUEUE_KINDS = ['orders', 'maintenance'] as const;
export type TaskQueueKind = (typeof TASK_QUEUE_KINDS)[number];

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FILE: z.string().optional(),

  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: port.default(9464),
  WORKER_METRICS_PORT: port.default(9466),
  TEMPORAL_METRICS_PORT: port.default(9465),
  // A prebuilt workflow bundle (npm run build:workflows -- --out <file>): the worker starts without webpack.
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  // Worker Deployment Versioning: orders stay on the build that started them (docs/architecture.md).
  // Off by default so a fresh `npm start` needs no "set current version" step; production turns it on.
  WORKER_VERSIONING: z.enum(['on', 'off']).default('off'),
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'WORKER_DEPLOYMENT_NAME: letters, digits, _ and - only')
    .default('cafe-flow'),
  // Unset: a hash of the workflow bundle, so the same workflow code is always the same version.
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, 'WORKER_BUILD_ID: letters, digits, . _ and - only')
    .optional(),
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
  TRUST_PROXY: bool.default(false),
  ALLOWED_ORIGINS: csv.default([]),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(100),
  // log2 of scrypt's N, with p from OWASP's table (api/auth/passwords.ts): 16 is 64 MiB a hash;
  // tests lower it to keep the suite fast.
  PASSWORD_HASH_COST: z.coerce.number().int().min(14).max(20).default(16),
  // Hashes at once per API process: the memory budget (2 × 64 MiB in a 512 MiB container).
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  // Waiting longer than this for a turn answers 503 BUSY instead of queueing without bound.
  PASSWORD_HASH_QUEUE_TIMEOUT_MS: positiveInt.default(5000),
  // Per (account, IP): failures in a row before delays start, the first delay (it doubles with
  // each further failure) and the longest; LOGIN_LOCK_SECONDS is also the IP and account window.
  LOGIN_MAX_FAILURES: positiveInt.default(5),
  LOGIN_DELAY_SECONDS: positiveInt.default(30),
  LOGIN_LOCK_SECONDS: positiveInt.default(900),
  // Ceilings per window: per IP across accounts (a café's Wi-Fi must keep working), and per
  // account across IPs (passed by the right password with one of the account's refresh tokens).
  LOGIN_IP_MAX_FAILURES: positiveInt.default(100),
  LOGIN_ACCOUNT_MAX_FAILURES: positiveInt.default(50),
  // The body parser reads an unparsable size as "no limit", so a typo here must stop the start-up.
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)? ?(b|kb|mb)?$/i, 'BODY_LIMIT must be a size such as 100kb or 1mb')
    .default('100kb'),

  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_POOL_MAX: positiveInt.default(10),

  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // Orders and payments: the customer-facing queue (the name in-flight orders already use).
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('cafe-flow'),
  // Backups, restore drills and smoke checks, so a long dump never takes a slot a checkout needs.
  // Unset: "<TEMPORAL_TASK_QUEUE>-maintenance".
  TEMPORAL_MAINTENANCE_TASK_QUEUE: z.string().min(1).optional(),
  // The queues this worker process serves: both, or one when orders and maintenance run apart.
  WORKER_TASK_QUEUES: csv
    .pipe(z.array(z.enum(TASK_QUEUE_KINDS, 'each must be orders or maintenance')).min(1, 'name at least one queue'))
    .transform((kinds) => [...new Set(kinds)])
    .default([...TASK_QUEUE_KINDS]),
  // Where `npm start` writes the addresses of the stack it runs, for the operator scripts.
  STACK_FILE: z.string().min(1).default('.data/stack.json'),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  // keyId:base64key,... (AES-256): the first encrypts payloads, every one decrypts (key rotation).
  TEMPORAL_PAYLOAD_KEYS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parsePayloadKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  // The codec server lets the Temporal UI and CLI show decrypted payloads (scripts/codec-server.ts).
  CODEC_SERVER_HOST: z.string().default('127.0.0.1'),
  CODEC_SERVER_PORT: port.default(8888),
  CODEC_SERVER_ALLOWED_ORIGINS: csv.optional(),
  CODEC_SERVER_AUTH_TOKEN: z.string().min(32, 'CODEC_SERVER_AUTH_TOKEN must be at least 32 characters').optional(),

  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),

  PAYMENT_TIMEOUT_SECONDS: positiveInt.default(15 * 60),
  ACCEPT_TIMEOUT_SECONDS: positiveInt.default(10 * 60),

  // Live feeds (SSE): how often a viewer's role is checked again, and how many streams one user may hold per API process.
  STREAM_ROLE_CHECK_SECONDS: positiveInt.default(30),
  STREAM_MAX_PER_USER: positiveInt.default(5),
  STREAM_HEARTBEAT_SECONDS: positiveInt.default(15),

  MERCADOPAGO_ACCESS_TOKEN: z.string().min(1).optional(),
  MERCADOPAGO_WEBHOOK_SECRET: z.string().min(1).optional(),
  MERCADOPAGO_API_URL: z.url().default('https://api.mercadopago.com'),
  MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS: positiveInt.default(300),
  MERCADOPAGO_TIMEOUT_MS: positiveInt.default(10_000),
  // Unsigned IPN hints cost us a provider fetch: accepted per client IP and minute, and one stored
  // row per (topic, id) and dedupe window however many arrive.
  WEBHOOK_UNSIGNED_PER_MINUTE: positiveInt.default(60),
  WEBHOOK_UNSIGNED_DEDUPE_SECONDS: positiveInt.default(60),
  // Processed notifications are pruned after this many days (daily schedule); pending ones never are.
  WEBHOOK_RETENTION_DAYS: positiveInt.default(30),

  // Binaries of the Temporal CLI and test server; scripts/install-temporal.sh puts them in .tools/.
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_DEV_PORT: port.default(7233),

  SENTRY_DSN: z.string().optional(),
  SENTRY_ENVIRONMENT: z.string().optional(),

  BACKUP_DIR: z.string().default('.data/backups'),
  BACKUP_TIMEZONE: z.string().default('UTC'),
  BACKUP_KEEP_DAILY: positiveInt.default(7),
  BACKUP_KEEP_WEEKLY: positiveInt.default(4),
  // pg_dump/pg_restore of the server's major version, when not in /usr/lib/postgresql/<major>/bin.
  BACKUP_PG_BIN_DIR: z.string().optional(),
  // Also archived on schedule, e.g. Temporal's own: temporal,temporal_visibility
  BACKUP_EXTRA_DATABASES: csv.default([]),
  SMOKE_BASE_URL: z.url().optional(),
  SMOKE_P95_MS: positiveInt.default(500),
  // Only where the API pays through the emulator (staging, tests); unset, the payment check is skipped.
  SMOKE_MERCADOPAGO_EMULATOR_URL: z.url().optional(),
  // Above the API's and nginx's per-minute limit, so the rate-limit check sees a 429; 0 skips it.
  SMOKE_RATE_LIMIT_BURST: z.coerce.number().int().min(0).default(150),

  // Customer mail. Unset SMTP_URL: nothing is sent (mails wait in the outbox); `npm start` points it at its catcher.
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465')
    .optional(),
  SMTP_TLS_REJECT_UNAUTHORIZED: bool.default(true),
  SMTP_TIMEOUT_MS: positiveInt.default(15_000),
  MAIL_FROM: z
    .string()
    .regex(/^(.*<)?[^<>@\s]+@[^<>@\s]+>?$/, 'MAIL_FROM must be an address, e.g. "Café <pedidos@example.com>"')
    .default('cafe-flow <pedidos@cafe-flow.localhost>'),
  MAIL_CONCURRENCY: positiveInt.default(4),
  MAIL_POLL_SECONDS: positiveInt.default(10),
  // Longer than one SMTP conversation can take (three SMTP_TIMEOUT_MS): a shorter lease lets a second relay resend.
  MAIL_LEASE_SECONDS: positiveInt.default(120),
  MAIL_RETRY_INITIAL_SECONDS: positiveInt.default(10),
  MAIL_RETRY_MAX_SECONDS: positiveInt.default(900),
});

export type Env = z.input<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

// Only for development and tests: production must bring its own secret.
const DEVELOPMENT_JWT_SECRET = 'cafe-flow-development-secret-do-not-use-in-production';
// Published in this repository, so it protects nothing: it only keeps development histories encrypted like production's.
export const DEVELOPMENT_PAYLOAD_KEYS = 'dev-1:Y2FmZS1mbG93IGRldmVsb3BtZW50IHBheWxvYWQgazE=';

// Production refuses to start without these, whatever the role: the same env file serves every container.
const PRODUCTION_REQUIRED = ['JWT_SECRET', 'DATABASE_URL', 'TEMPORAL_PAYLOAD_KEYS', 'MERCADOPAGO_WEBHOOK_SECRET'] as const;
// Secrets we choose ourselves, so a weak one is a mistake the start-up can catch.
const PRODUCTION_SECRETS = ['JWT_SECRET', 'MERCADOPAGO_WEBHOOK_SECRET', 'CODEC_SERVER_AUTH_TOKEN'] as const;

/** Rules that only hold in production. Each issue names its variable, never its value. */
function checkProduction(env: z.output<typeof envSchema>, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== 'production') return;
  const refuse = (name: string, message: string) => ctx.addIssue({ code: 'custom', path: [name], message });
  for (const name of PRODUCTION_REQUIRED) if (env[name] === undefined) refuse(name, 'required in production');
  for (const name of PRODUCTION_SECRETS) {
    const value = env[name];
    const weakness = value === undefined ? undefined : secretWeakness(value);
    if (weakness) refuse(name, `too weak for production (${weakness}); generate one with: openssl rand -base64 48`);
  }
  const published = parsePayloadKeys(DEVELOPMENT_PAYLOAD_KEYS)[0]!.key;
  if (env.TEMPORAL_PAYLOAD_KEYS?.some(({ key }) => key.equals(published))) {
    refuse('TEMPORAL_PAYLOAD_KEYS', 'the development key is public; generate one with openssl rand -base64 32');
  }
}

/** One queue for both would hand a backup to a Worker that only has the order activities. */
function checkTaskQueues(env: z.output<typeof envSchema>, ctx: z.RefinementCtx): void {
  if (env.TEMPORAL_MAINTENANCE_TASK_QUEUE === env.TEMPORAL_TASK_QUEUE) {
    ctx.addIssue({ code: 'custom', path: ['TEMPORAL_MAINTENANCE_TASK_QUEUE'], message: 'must differ from TEMPORAL_TASK_QUEUE' });
  }
}

/** The environment, checked and shaped into the nested object every process receives. */
const checkedEnv = envSchema.superRefine(checkTaskQueues);
const configSchema = checkedEnv.superRefine(checkProduction).transform((env) => {
  const tls =
    env.TEMPORAL_TLS_CERT_PATH || env.TEMPORAL_TLS_CA_PATH
      ? { certPath: env.TEMPORAL_TLS_CERT_PATH, keyPath: env.TEMPORAL_TLS_KEY_PATH, caPath: env.TEMPORAL_TLS_CA_PATH }
      : undefined;
  return {
    env: env.NODE_ENV,
    log: { level: env.LOG_LEVEL, file: env.LOG_FILE },
    http: {
      host: env.HOST,
      port: env.PORT,
      metricsPort: env.METRICS_PORT,
      publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/$/, ''),
      trustProxy: env.TRUST_PROXY,
      allowedOrigins: env.ALLOWED_ORIGINS,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      bodyLimit: env.BODY_LIMIT,
    },
    auth: {
      jwtSecret: env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      passwordHashCost: env.PASSWORD_HASH_COST,
      passwordHashConcurrency: env.PASSWORD_HASH_CONCURRENCY,
      passwordHashQueueTimeoutMs: env.PASSWORD_HASH_QUEUE_TIMEOUT_MS,
      loginDelaySeconds: env.LOGIN_DELAY_SECONDS,
      loginLockSeconds: env.LOGIN_LOCK_SECONDS,
      loginIpMaxFailures: env.LOGIN_IP_MAX_FAILURES,
      loginAccountMaxFailures: env.LOGIN_ACCOUNT_MAX_FAILURES,
    },
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX },
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      maintenanceTaskQueue: env.TEMPORAL_MAINTENANCE_TASK_QUEUE ?? `${env.TEMPORAL_TASK_QUEUE}-maintenance`,
      tls,
      apiKey: env.TEMPORAL_API_KEY,
      cliPath: env.TEMPORAL_CLI_PATH,
      testServerPath: env.TEMPORAL_TEST_SERVER_PATH,
      devPort: env.TEMPORAL_DEV_PORT,
      uiPort: env.TEMPORAL_UI_PORT,
      // The first encrypts payloads; all decrypt.
      payloadKeys: env.TEMPORAL_PAYLOAD_KEYS ?? parsePayloadKeys(DEVELOPMENT_PAYLOAD_KEYS),
    },
    codecServer: {
      host: env.CODEC_SERVER_HOST,
      port: env.CODEC_SERVER_PORT,
      // The UI's origin is whichever host name was typed into the browser: allow both by default.
      allowedOrigins: env.CODEC_SERVER_ALLOWED_ORIGINS ?? [
        `http://localhost:${env.TEMPORAL_UI_PORT}`,
        `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`,
      ],
      authToken: env.CODEC_SERVER_AUTH_TOKEN,
    },
    orders: {
      paymentTimeoutSeconds: env.PAYMENT_TIMEOUT_SECONDS,
      acceptTimeoutSeconds: env.ACCEPT_TIMEOUT_SECONDS,
    },
    streams: {
      roleCheckSeconds: env.STREAM_ROLE_CHECK_SECONDS,
      maxPerUser: env.STREAM_MAX_PER_USER,
      heartbeatSeconds: env.STREAM_HEARTBEAT_SECONDS,
    },
    mercadopago: {
      accessToken: env.MERCADOPAGO_ACCESS_TOKEN,
      webhookSecret: env.MERCADOPAGO_WEBHOOK_SECRET,
      apiUrl: env.MERCADOPAGO_API_URL.replace(/\/$/, ''),
      webhookToleranceSeconds: env.MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS,
      timeoutMs: env.MERCADOPAGO_TIMEOUT_MS,
    },
    webhooks: {
      unsignedPerMinute: env.WEBHOOK_UNSIGNED_PER_MINUTE,
      unsignedDedupeSeconds: env.WEBHOOK_UNSIGNED_DEDUPE_SECONDS,
      retentionDays: env.WEBHOOK_RETENTION_DAYS,
    },
    sentry: { dsn: env.SENTRY_DSN, environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV },
    worker: {
      metricsPort: env.WORKER_METRICS_PORT,
      temporalMetricsPort: env.TEMPORAL_METRICS_PORT,
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
      taskQueues: env.WORKER_TASK_QUEUES,
      versioning: {
        enabled: env.WORKER_VERSIONING === 'on',
        deploymentName: env.WORKER_DEPLOYMENT_NAME,
        buildId: env.WORKER_BUILD_ID,
      },
    },
    backups: {
      dir: env.BACKUP_DIR,
      timezone: env.BACKUP_TIMEZONE,
      keepDaily: env.BACKUP_KEEP_DAILY,
      keepWeekly: env.BACKUP_KEEP_WEEKLY,
      pgBinDir: env.BACKUP_PG_BIN_DIR,
      extraDatabases: env.BACKUP_EXTRA_DATABASES,
    },
    smoke: {
      baseUrl: env.SMOKE_BASE_URL,
      p95Ms: env.SMOKE_P95_MS,
      emulatorUrl: env.SMOKE_MERCADOPAGO_EMULATOR_URL,
      rateLimitBurst: env.SMOKE_RATE_LIMIT_BURST,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      tlsRejectUnauthorized: env.SMTP_TLS_REJECT_UNAUTHORIZED,
      timeoutMs: env.SMTP_TIMEOUT_MS,
      from: env.MAIL_FROM,
      // The right-hand side of every Message-ID: the domain of MAIL_FROM.
      messageIdDomain: /@([^<>@\s]+)>?$/.exec(env.MAIL_FROM)?.[1] ?? 'cafe-flow.localhost',
      concurrency: env.MAIL_CONCURRENCY,
      pollIntervalMs: env.MAIL_POLL_SECONDS * 1000,
      leaseSeconds: env.MAIL_LEASE_SECONDS,
      retryInitialSeconds: env.MAIL_RETRY_INITIAL_SECONDS,
      retryMaxSeconds: env.MAIL_RETRY_MAX_SECONDS,
    },
    operator: { stackFile: env.STACK_FILE },
  };
});

/**
 * What the transform returns, with each key that may hold undefined marked optional (`file?:`),
 * as callers that build a slice of it (tests, scripts) expect.
 */
type OptionalWhenUndefined<T> = T extends readonly unknown[] | Buffer | ((...args: never[]) => unknown)
  ? T
  : T extends object
    ? { [K in keyof T as undefined extends T[K] ? K : never]?: OptionalWhenUndefined<T[K]> } & {
        [K in keyof T as undefined extends T[K] ? never : K]: OptionalWhenUndefined<T[K]>;
      } extends infer O
      ? { [K in keyof O]: O[K] }
      : never
    : T;

export type Config = OptionalWhenUndefined<z.output<typeof configSchema>>;

const issueText = (issue: z.core.$ZodIssue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`;

/**
 * Parses the environment into a `Config`, or fails with every problem at once. With a role, the
 * variables that role needs must be set too (see `requireFor`).
 */
export function loadConfig(source: Record<string, string | undefined> = process.env, options: { role?: Role } = {}): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const placeholders = Object.keys(envSchema.shape).filter((name) => isPlaceholder(present[name] ?? ''));
  const parsed = configSchema.safeParse(present);
  // A placeholder is the one thing to say about its variable: its other issues follow from it.
  const issues = [
    ...placeholders.map((name) => `${name}: still the placeholder from the example env file; set the real value`),
    ...(parsed.success
      ? []
      : parsed.error.issues.filter((issue) => !placeholders.includes(String(issue.path[0]))).map(issueText)),
  ];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  if (options.role) requireFor(parsed.data, options.role);
  return parsed.data;
}

/** What each process cannot start without, beyond what every config has. */
const ROLE_NEEDS = {
  api: ['DATABASE_URL', 'TEMPORAL_ADDRESS'],
  worker: ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'MERCADOPAGO_ACCESS_TOKEN'],
  migrate: ['DATABASE_URL'],
  restore: ['DATABASE_URL'],
  backup: ['TEMPORAL_ADDRESS'],
  schedules: ['TEMPORAL_ADDRESS'],
  smoke: ['TEMPORAL_ADDRESS'],
} as const;
export type Role = keyof typeof ROLE_NEEDS;

// Where each optional variable ends up, and the shape a config has once it is set.
const ROLE_VALUES = {
  DATABASE_URL: (config: Config) => config.database.url,
  TEMPORAL_ADDRESS: (config: Config) => config.temporal.address,
  MERCADOPAGO_ACCESS_TOKEN: (config: Config) => config.mercadopago.accessToken,
};
interface RoleProvides {
  DATABASE_URL: { database: { url: string } };
  TEMPORAL_ADDRESS: { temporal: { address: string } };
  MERCADOPAGO_ACCESS_TOKEN: { mercadopago: { accessToken: string } };
}
type AllOf<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void ? I : never;
export type ConfigFor<R extends Role> = Config & AllOf<RoleProvides[(typeof ROLE_NEEDS)[R][number]]>;

/**
 * Fails naming every variable `role` needs and lacks; afterwards the compiler knows they are set.
 * The composition roots call it first, so a process missing one stops at start, not at first use.
 */
export function requireFor<R extends Role>(config: Config, role: R): asserts config is ConfigFor<R> {
  const missing = ROLE_NEEDS[role].filter((name) => !ROLE_VALUES[name](config));
  if (missing.length > 0) throw new ConfigError(missing.map((name) => `${name}: required to run the ${role}`));
}
