/**
 * What the smoke workflow, its activities, the smoke-hourly schedule and `npm run smoke` share.
 * Imports nothing with side effects, so the workflow bundle and the scripts can both load it.
 */

export const SMOKE_WORKFLOW_TYPE = 'deploySmokeCheck';
export const SMOKE_SCHEDULE_ID = 'smoke-hourly';

/** A manual run gets its own id; scheduled runs get `smoke:scheduled-<time>` from the schedule. */
export const manualSmokeWorkflowId = (at: Date) => `smoke:manual:${at.toISOString()}`;
export const SCHEDULED_SMOKE_WORKFLOW_ID = 'smoke:scheduled';

/**
 * Everything a run creates carries these marks, so the cleanup can find it (and only it) and
 * nobody mistakes it for a customer: `.invalid` is reserved (RFC 2606), no mail ever leaves.
 */
export const SMOKE_EMAIL_DOMAIN = 'smoke.cafe-flow.invalid';
export const SMOKE_CAFE_PREFIX = '[smoke]';
export const smokeEmail = (runTag: string) => `smoke+${runTag}@${SMOKE_EMAIL_DOMAIN}`;
export const smokeCafeName = (runTag: string) => `${SMOKE_CAFE_PREFIX} ${runTag}`;

/** The checks in the order they run; the report lists every one of them, run or not. */
export const SMOKE_CHECKS = [
  'health',
  'readiness',
  'register',
  'login',
  'createCafe',
  'createProduct',
  'placeOrder',
  'payOrder',
  'webhookSignature',
  'readLatency',
  'rateLimit',
] as const;
export type SmokeCheckName = (typeof SMOKE_CHECKS)[number];

/** Removing what the run created; reported apart from the checks. */
export const SMOKE_CLEANUP_STEPS = ['cancelOrder', 'deleteProduct', 'deleteSmokeData'] as const;
export type SmokeCleanupName = (typeof SMOKE_CLEANUP_STEPS)[number];

export const SMOKE_DEFAULTS = {
  p95Ms: 500,
  /** A payment through the emulator confirms in a second or two; a minute covers a slow webhook. */
  payTimeoutMs: 60_000,
  /** nginx drains its per-IP bucket at one request per 600 ms: polling slower keeps us under it. */
  pollIntervalMs: 1_000,
  /** Above the API's and nginx's 100/min (plus nginx's burst of 20), so one of them must answer 429. */
  rateLimitBurst: 150,
  readSamples: 12,
  readConcurrency: 3,
} as const;

export interface SmokeInput {
  /** The deployment under test, e.g. https://api.example.com (no trailing slash needed). */
  baseUrl: string;
  /**
   * The MercadoPago emulator the API is configured with. Without it (a real test account), the
   * payment check is skipped: paying there needs a buyer.
   */
  emulatorUrl?: string;
  p95Ms?: number;
  payTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Most requests the rate-limit check sends looking for a 429; 0 skips the check. */
  rateLimitBurst?: number;
  readSamples?: number;
  readConcurrency?: number;
  /** The schedule that started this run, for `schedule_last_run_timestamp_seconds`. */
  schedule?: string;
}

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  name: SmokeCheckName | SmokeCleanupName;
  status: CheckStatus;
  /** False only when the check ran and failed; a skipped check names its reason in `detail`. */
  ok: boolean;
  durationMs: number;
  error?: string;
  detail?: string;
}

export interface SmokeReport {
  workflowId: string;
  baseUrl: string;
  runTag: string;
  result: 'pass' | 'fail';
  startedAt: string;
  finishedAt: string;
  checks: CheckResult[];
  cleanup: CheckResult[];
}

/** What a check activity answers: a failed check is a result, not an activity failure. */
export interface Probe<T = undefined> {
  status: CheckStatus;
  durationMs: number;
  error?: string;
  detail?: string;
  data?: T;
}

/**
 * What the run created, handed from one step to the next. The account's password and token stay
 * with the activities (activities/maintenance/smoke-sessions.ts), keyed by `runTag`: a secret
 * must never enter a payload, since whoever reads history (or the codec server) would see it.
 */
export interface SmokeSession {
  baseUrl: string;
  runTag: string;
  cafeId?: string;
  productId?: string;
  orderId?: string;
  preferenceId?: string;
}
