import type { Db } from '../../db/knex';
import { cafeExists, deleteSmokeData } from '../../db/repositories/smoke-data';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { TERMINAL_STATUSES } from '../../workflows/orders/contracts';
import {
  SMOKE_CAFE_PREFIX,
  SMOKE_EMAIL_DOMAIN,
  smokeCafeName,
  smokeEmail,
  type Probe,
  type SmokeReport,
  type SmokeSession,
} from '../../workflows/maintenance/smoke-contracts';
import { createSmokeChecks } from './smoke-checks';
import { describeBody, expectStatus, passed, pause, probe, smokeHttp } from './smoke-http';
import { SmokeSessions } from './smoke-sessions';

export interface SmokeSettings {
  /** Per HTTP request; a deployment that takes longer to answer one call has failed the check. */
  requestTimeoutMs: number;
}

export interface SmokeActivityDeps {
  /** Only for removing smoke accounts and cafés: the API has no route that deletes them. */
  db: Db;
  logger: Logger;
  metrics: Metrics;
  settings?: Partial<SmokeSettings>;
  /** Where the runs' credentials live (worker memory); one per worker unless a test brings its own. */
  sessions?: SmokeSessions;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
// Smoke accounts older than this belong to runs that ended before their cleanup did.
const STALE_AFTER_MS = 24 * 3600 * 1000;
const PAID_OR_LATER = ['paid', 'preparing', 'ready', 'completed'];

interface OrderSnapshot {
  status: string;
  paymentId: string | null;
}

/** Activities of the smoke workflow: the API checks, payment, cleanup and the run's metrics. */
export function createSmokeActivities({ db, logger, metrics, settings, sessions = new SmokeSessions() }: SmokeActivityDeps) {
  const connect = (baseUrl: string) => smokeHttp(baseUrl, settings?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const token = (session: SmokeSession) => sessions.token(session.runTag);

  /** Polls the order until `done` holds or the time is up; answers the last state seen. */
  async function watchOrder(
    session: SmokeSession,
    wait: { timeoutMs: number; pollIntervalMs: number },
    done: (order: OrderSnapshot) => boolean,
  ): Promise<{ met: boolean; last: string; order?: OrderSnapshot }> {
    const request = connect(session.baseUrl);
    const bearer = token(session);
    const deadline = performance.now() + wait.timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const answer = await request<OrderSnapshot>('GET', `/v1/orders/${session.orderId}`, { token: bearer });
      if (answer.status === 200 && done(answer.body)) return { met: true, last: answer.body.status, order: answer.body };
      last = answer.status === 200 ? answer.body.status : `GET answered ${answer.status}${describeBody(answer.body)}`;
      if (performance.now() + wait.pollIntervalMs > deadline) return { met: false, last };
      await pause(wait.pollIntervalMs, { last });
    }
  }

  return {
    ...createSmokeChecks(connect, sessions),

    /** Pays the order as a buyer on the emulator's checkout, then waits for the webhook to confirm it. */
    async payAndConfirm(input: {
      session: SmokeSession;
      emulatorUrl: string;
      timeoutMs: number;
      pollIntervalMs: number;
    }): Promise<Probe> {
      const { session } = input;
      return probe(async () => {
        const pay = await connect(input.emulatorUrl)('POST', `/__emulator/preferences/${session.preferenceId}/pay`, {
          body: { status: 'approved' },
        });
        expectStatus(pay, 201, 'the emulator, asked to pay the checkout,');
        const seen = await watchOrder(session, input, (order) => order.status !== 'pending_payment');
        if (!seen.met) {
          throw new Error(
            `timed out after ${input.timeoutMs} ms waiting for order ${session.orderId} to be paid: still ${seen.last}. ` +
              `The emulator approved payment ${pay.body?.id}, but no confirmation reached the order (webhook secret or URL?)`,
          );
        }
        if (!PAID_OR_LATER.includes(seen.last)) throw new Error(`order ${session.orderId} went to ${seen.last} instead of paid`);
        return passed(undefined, `payment ${pay.body?.id} confirmed`);
      });
    },

    /** Cancels the order (a paid one is refunded) and waits until its workflow has nothing left to do. */
    async cancelSmokeOrder(input: { session: SmokeSession; timeoutMs: number; pollIntervalMs: number }): Promise<Probe> {
      const { session } = input;
      return probe(async () => {
        const answer = await connect(session.baseUrl)('POST', `/v1/orders/${session.orderId}/actions/cancel`, {
          token: token(session),
          body: { reason: 'smoke check cleanup' },
        });
        // 409: already over (expired, or cancelled by an earlier attempt).
        expectStatus(answer, [200, 409], 'POST /v1/orders/:id/actions/cancel');
        const seen = await watchOrder(session, input, settled);
        if (!seen.met) throw new Error(`order ${session.orderId} still ${seen.last} ${input.timeoutMs} ms after cancelling it`);
        return passed(undefined, `order ${seen.last}`);
      });
    },

    async deleteSmokeProduct(session: SmokeSession): Promise<Probe> {
      return probe(async () => {
        const answer = await connect(session.baseUrl)(
          'DELETE',
          `/v1/businesses/${session.cafeId}/products/${session.productId}`,
          { token: token(session) },
        );
        expectStatus(answer, [204, 404], 'DELETE /v1/businesses/:id/products/:id');
        return passed();
      });
    },

    /**
     * Removes this run's account and café, and leftovers of runs that could not clean up. A
     * database error is thrown rather than reported, so the workflow's retries ride over it.
     */
    async deleteSmokeData(input: { runTag: string }): Promise<Probe> {
      const started = performance.now();
      const removed = await deleteSmokeData(db, {
        emailLike: `smoke+%@${SMOKE_EMAIL_DOMAIN}`,
        runEmail: smokeEmail(input.runTag),
        cafeNameLike: `${SMOKE_CAFE_PREFIX} %`,
        staleBefore: new Date(Date.now() - STALE_AFTER_MS),
        settledStatuses: TERMINAL_STATUSES,
      });
      const durationMs = Math.round(performance.now() - started);
      // The account is gone: so are its credentials.
      sessions.close(input.runTag);
      const summary = `removed ${removed.users} account(s) and ${removed.cafes} café(s)`;
      if (removed.kept.length === 0) return { status: 'passed', durationMs, detail: summary };
      const orders = removed.kept.map((row) => `${row.orderId} (${row.status})`).join(', ');
      // Leftovers of other runs still being processed are theirs to clean up next time; only this
      // run's own café staying behind is a failure of this run.
      if (!(await cafeExists(db, smokeCafeName(input.runTag)))) {
        return {
          status: 'passed',
          durationMs,
          detail: `${summary}; left ${removed.kept.length} older café(s) with unsettled orders: ${orders}`,
        };
      }
      return {
        status: 'failed',
        durationMs,
        error: `${summary}; kept ${removed.kept.length} café(s) whose orders are not settled: ${orders}`,
      };
    },

    async recordSmokeRun(input: { report: SmokeReport; schedule?: string }): Promise<void> {
      const { report } = input;
      metrics.smokeRuns.inc({ result: report.result });
      for (const failed of report.checks.filter((result) => !result.ok)) metrics.smokeFailures.inc({ check: failed.name });
      if (report.result === 'pass') metrics.smokeLastSuccess.set(Date.parse(report.finishedAt) / 1000);
      if (input.schedule) metrics.scheduleLastRun.set({ schedule: input.schedule }, Date.parse(report.startedAt) / 1000);
      const failures = [...report.checks, ...report.cleanup].filter((result) => !result.ok);
      const summary = { workflowId: report.workflowId, baseUrl: report.baseUrl, result: report.result };
      if (failures.length === 0) logger.info(summary, 'smoke check run passed');
      else logger.warn({ ...summary, failures: failures.map(({ name, error }) => ({ name, error })) }, 'smoke check run failed');
    },
  };
}

/** Terminal, and a cancelled order that was paid has had its refund recorded. */
function settled(order: OrderSnapshot): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(order.status) && !(order.status === 'cancelled' && order.paymentId);
}
