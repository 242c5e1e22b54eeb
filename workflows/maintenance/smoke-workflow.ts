import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createSmokeActivities } from '../../activities/maintenance/smoke-activities';
import {
  SMOKE_DEFAULTS,
  smokeCafeName,
  type CheckResult,
  type Probe,
  type SmokeCheckName,
  type SmokeCleanupName,
  type SmokeInput,
  type SmokeReport,
  type SmokeSession,
} from './smoke-contracts';

type SmokeActivities = ReturnType<typeof createSmokeActivities>;
type Settings = Required<Omit<SmokeInput, 'baseUrl' | 'emulatorUrl' | 'schedule'>> & Pick<SmokeInput, 'emulatorUrl' | 'schedule'>;

const probes = proxyActivities<SmokeActivities>({
  // One attempt: a check that needs a retry to pass is exactly what a smoke run must report.
  // Each request inside has its own timeout (10 s), so two minutes only catches a lost worker.
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 1 },
});

const cleaning = proxyActivities<SmokeActivities>({
  // Leftovers are worse than a slow cleanup: a few attempts ride over a dropped connection.
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

const recording = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** Waits that poll the API (payment, refund) get their own budget on top of the wait itself. */
const waiting = (waitMs: number) =>
  proxyActivities<SmokeActivities>({
    startToCloseTimeout: waitMs + 60_000,
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 1 },
  });

interface Run {
  workflowId: string;
  startedAt: string;
  runTag: string;
  settings: Settings;
  session: SmokeSession;
  checks: CheckResult[];
  cleanup: CheckResult[];
}

/**
 * The release checks against a deployment, as a customer and a café would meet it: health,
 * readiness, sign-up, a café with a product, an order paid through the MercadoPago emulator,
 * the webhook's signature check, read latency and rate limiting. Every check runs (or says why
 * it could not); what the run created is removed at the end. Returns the report, pass or fail.
 */
export async function deploySmokeCheck(input: SmokeInput): Promise<SmokeReport> {
  const run = begin(input);
  const target = { baseUrl: run.session.baseUrl };
  await check(run, 'health', [], () => probes.checkHealth(target));
  await check(run, 'readiness', [], () => probes.checkReadiness(target));
  await signUp(run);
  await openCafe(run);
  await orderAndPay(run);
  await check(run, 'webhookSignature', [], () => probes.checkWebhookSignature({ ...target, runTag: run.runTag }));
  await check(run, 'readLatency', ['createCafe'], () =>
    probes.measureReadLatency({
      session: run.session,
      samples: run.settings.readSamples,
      concurrency: run.settings.readConcurrency,
      p95Ms: run.settings.p95Ms,
    }),
  );
  // The API's own cleanup goes before the burst: after it, this client is refused for up to a minute.
  await cleanUpThroughApi(run);
  await checkRateLimit(run);
  await step(run, 'deleteSmokeData', () => cleaning.deleteSmokeData({ runTag: run.runTag }));
  return finish(run);
}

function begin(input: SmokeInput): Run {
  const info = workflowInfo();
  const runTag = info.runId.replace(/-/g, '').slice(0, 12);
  const settings: Settings = { ...SMOKE_DEFAULTS, ...withoutUndefined(input) };
  return {
    workflowId: info.workflowId,
    startedAt: new Date(Date.now()).toISOString(),
    runTag,
    settings,
    session: { baseUrl: input.baseUrl.replace(/\/+$/, ''), runTag },
    checks: [],
    cleanup: [],
  };
}

async function signUp(run: Run): Promise<void> {
  // The activities make the account and keep its password and token: the workflow never sees them.
  await check(run, 'register', [], () => probes.registerSmokeUser(run.session));
  await check(run, 'login', ['register'], () => probes.logIn(run.session));
}

async function openCafe(run: Run): Promise<void> {
  const cafe = await check(run, 'createCafe', ['login'], () =>
    probes.createSmokeCafe({ session: run.session, name: smokeCafeName(run.runTag) }),
  );
  run.session.cafeId = cafe?.cafeId;
  const product = await check(run, 'createProduct', ['createCafe'], () => probes.createSmokeProduct(run.session));
  run.session.productId = product?.productId;
}

async function orderAndPay(run: Run): Promise<void> {
  const placed = await check(run, 'placeOrder', ['createProduct'], () =>
    probes.placeSmokeOrder({ session: run.session, idempotencyKey: `smoke-${run.runTag}` }),
  );
  run.session.orderId = placed?.orderId;
  run.session.preferenceId = placed?.preferenceId;
  const { emulatorUrl, payTimeoutMs, pollIntervalMs } = run.settings;
  if (!emulatorUrl) {
    skip(
      run.checks,
      'payOrder',
      'no MercadoPago emulator URL (SMOKE_MERCADOPAGO_EMULATOR_URL): a real account needs a buyer to pay',
    );
    return;
  }
  await check(run, 'payOrder', ['placeOrder'], () =>
    waiting(payTimeoutMs).payAndConfirm({ session: run.session, emulatorUrl, timeoutMs: payTimeoutMs, pollIntervalMs }),
  );
}

async function checkRateLimit(run: Run): Promise<void> {
  const burst = run.settings.rateLimitBurst;
  if (burst <= 0) {
    skip(run.checks, 'rateLimit', 'rateLimitBurst is 0');
    return;
  }
  await check(run, 'rateLimit', [], () => probes.checkRateLimit({ baseUrl: run.session.baseUrl, burst }));
}

async function cleanUpThroughApi(run: Run): Promise<void> {
  const { orderId, productId } = run.session;
  // A paid order is refunded on cancel; the rows go only once the order has settled.
  const wait = run.settings.payTimeoutMs;
  if (orderId) {
    await step(run, 'cancelOrder', () =>
      waiting(wait).cancelSmokeOrder({ session: run.session, timeoutMs: wait, pollIntervalMs: run.settings.pollIntervalMs }),
    );
  } else skip(run.cleanup, 'cancelOrder', 'no order was placed');
  if (productId) await step(run, 'deleteProduct', () => cleaning.deleteSmokeProduct(run.session));
  else skip(run.cleanup, 'deleteProduct', 'no product was created');
}

async function finish(run: Run): Promise<SmokeReport> {
  const report: SmokeReport = {
    workflowId: run.workflowId,
    baseUrl: run.session.baseUrl,
    runTag: run.runTag,
    result: run.checks.every((result) => result.ok) ? 'pass' : 'fail',
    startedAt: run.startedAt,
    finishedAt: new Date(Date.now()).toISOString(),
    checks: run.checks,
    cleanup: run.cleanup,
  };
  await recording.recordSmokeRun({ report, schedule: run.settings.schedule });
  return report;
}

/** Runs one check unless a check it builds on did not pass; a failure never stops the run. */
async function check<T>(
  run: Run,
  name: SmokeCheckName,
  needs: SmokeCheckName[],
  call: () => Promise<Probe<T>>,
): Promise<T | undefined> {
  const blocker = needs.map((need) => run.checks.find((done) => done.name === need)).find((done) => done?.status !== 'passed');
  if (blocker) {
    skip(run.checks, name, `not run: needs ${blocker.name}, which ${blocker.status === 'failed' ? 'failed' : 'was skipped'}`);
    return undefined;
  }
  return record(run.checks, name, call);
}

async function step(run: Run, name: SmokeCleanupName, call: () => Promise<Probe<unknown>>): Promise<void> {
  await record(run.cleanup, name, call);
}

async function record<T>(list: CheckResult[], name: CheckResult['name'], call: () => Promise<Probe<T>>): Promise<T | undefined> {
  const started = Date.now();
  try {
    const probe = await call();
    list.push({
      name,
      status: probe.status,
      ok: probe.status !== 'failed',
      durationMs: probe.durationMs,
      error: probe.error,
      detail: probe.detail,
    });
    return probe.status === 'passed' ? probe.data : undefined;
  } catch (error) {
    // The activity itself failed (timed out, worker lost): that check failed, the run goes on.
    list.push({ name, status: 'failed', ok: false, durationMs: Date.now() - started, error: failureMessage(error) });
    return undefined;
  }
}

function skip(list: CheckResult[], name: CheckResult['name'], detail: string): void {
  list.push({ name, status: 'skipped', ok: true, durationMs: 0, detail });
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure) {
    return `${error.activityType} did not complete: ${error.cause?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
