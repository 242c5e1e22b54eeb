import { smokeEmail, type Probe, type SmokeSession } from '../../workflows/maintenance/smoke-contracts';
import { describeBody, expectStatus, passed, probe, type Request } from './smoke-http';
import type { SmokeSessions } from './smoke-sessions';

type Connect = (baseUrl: string) => Request;

/**
 * The checks that walk the API as a café owner would, up to a placed order. Each answers a
 * Probe; none throws for a failed check. A repeated register finds its own account and a
 * repeated order its Idempotency-Key; a repeated café or product would be a second one, which
 * the cleanup removes with the first (they carry the run's marks).
 */
export function createSmokeChecks(connect: Connect, sessions: SmokeSessions) {
  const token = (session: SmokeSession) => sessions.token(session.runTag);

  return {
    async checkHealth(input: { baseUrl: string }): Promise<Probe> {
      return probe(async () => {
        const answer = await connect(input.baseUrl)('GET', '/health');
        expectStatus(answer, 200, 'GET /health');
        return passed();
      });
    },

    async checkReadiness(input: { baseUrl: string }): Promise<Probe> {
      return probe(async () => {
        const answer = await connect(input.baseUrl)<{ checks?: Record<string, { status: string; error?: string }> }>(
          'GET',
          '/ready',
        );
        if (answer.status === 200) return passed();
        const down = Object.entries(answer.body?.checks ?? {})
          .filter(([, dependency]) => dependency.status !== 'up')
          .map(([name, dependency]) => `${name} down${dependency.error ? ` (${dependency.error})` : ''}`);
        throw new Error(
          `GET /ready answered ${answer.status}: ${down.length ? down.join(', ') : `not ready${describeBody(answer.body)}`}`,
        );
      });
    },

    async registerSmokeUser(session: SmokeSession): Promise<Probe> {
      return probe(async () => {
        const account = sessions.open(session.runTag, smokeEmail(session.runTag));
        const answer = await connect(session.baseUrl)('POST', '/v1/auth/register', {
          body: { email: account.email, password: account.password, name: 'Smoke check' },
        });
        // The address is this run's own: a 409 means an earlier attempt of the run registered it.
        if (answer.status === 409 && answer.body?.error?.code === 'EMAIL_TAKEN') return passed(undefined, 'already registered');
        expectStatus(answer, 201, 'POST /v1/auth/register');
        return passed();
      });
    },

    async logIn(session: SmokeSession): Promise<Probe> {
      return probe(async () => {
        const account = sessions.get(session.runTag);
        const answer = await connect(session.baseUrl)('POST', '/v1/auth/login', {
          body: { email: account.email, password: account.password },
        });
        expectStatus(answer, 200, 'POST /v1/auth/login');
        if (typeof answer.body?.accessToken !== 'string') throw new Error('POST /v1/auth/login answered without an accessToken');
        sessions.signedIn(session.runTag, answer.body.accessToken as string);
        return passed();
      });
    },

    async createSmokeCafe(input: { session: SmokeSession; name: string }): Promise<Probe<{ cafeId: string }>> {
      return probe(async () => {
        const answer = await connect(input.session.baseUrl)('POST', '/v1/businesses', {
          token: token(input.session),
          body: { name: input.name, currency: 'ARS', timeZone: 'UTC' },
        });
        expectStatus(answer, 201, 'POST /v1/businesses');
        return passed({ cafeId: answer.body.id as string });
      });
    },

    async createSmokeProduct(session: SmokeSession): Promise<Probe<{ productId: string }>> {
      return probe(async () => {
        const answer = await connect(session.baseUrl)('POST', `/v1/businesses/${session.cafeId}/products`, {
          token: token(session),
          body: { name: '[smoke] espresso', priceMinor: 100 },
        });
        expectStatus(answer, 201, 'POST /v1/businesses/:id/products');
        return passed({ productId: answer.body.id as string });
      });
    },

    async placeSmokeOrder(input: {
      session: SmokeSession;
      idempotencyKey: string;
    }): Promise<Probe<{ orderId: string; preferenceId?: string }>> {
      const { session } = input;
      return probe(async () => {
        const answer = await connect(session.baseUrl)('POST', `/v1/businesses/${session.cafeId}/orders`, {
          token: token(session),
          headers: { 'idempotency-key': input.idempotencyKey },
          body: { items: [{ productId: session.productId, quantity: 1 }], pickupName: 'smoke check' },
        });
        expectStatus(answer, [200, 201], 'POST /v1/businesses/:id/orders');
        const orderId = answer.body.id as string;
        const preferenceId = (answer.body.payment?.preferenceId as string | null) ?? undefined;
        if (!preferenceId) throw new Error(`order ${orderId} was placed without a MercadoPago checkout preference`);
        return passed({ orderId, preferenceId }, `order ${orderId}, ${answer.body.status}`);
      });
    },

    async checkWebhookSignature(input: { baseUrl: string; runTag: string }): Promise<Probe> {
      return probe(async () => {
        const dataId = `smoke-${input.runTag}`;
        const answer = await connect(input.baseUrl)('POST', `/v1/webhooks/mercadopago?type=payment&data.id=${dataId}`, {
          body: { type: 'payment', action: 'payment.updated', data: { id: dataId } },
        });
        if (answer.status === 200)
          throw new Error('an unsigned webhook call was accepted: anyone could forge payment notifications');
        expectStatus(answer, 401, 'unsigned POST /v1/webhooks/mercadopago');
        return passed(undefined, `401${describeBody(answer.body)}`);
      });
    },

    async measureReadLatency(input: {
      session: SmokeSession;
      samples: number;
      concurrency: number;
      p95Ms: number;
    }): Promise<Probe> {
      const { session } = input;
      return probe(async () => {
        const request = connect(session.baseUrl);
        const bearer = token(session);
        const read = async () => {
          const answer = await request('GET', `/v1/businesses/${session.cafeId}/products`, { token: bearer });
          expectStatus(answer, 200, 'GET /v1/businesses/:id/products');
          return answer.ms;
        };
        const timings = await inWaves(input.samples, input.concurrency, read);
        const p95 = Math.round(percentile(timings, 0.95));
        const summary = `p95 ${p95} ms over ${timings.length} reads (limit ${input.p95Ms} ms)`;
        if (p95 > input.p95Ms) throw new Error(`${summary}: too slow`);
        return passed(undefined, summary);
      });
    },

    /** Sends up to `burst` requests from this one client, stopping at the first 429. */
    async checkRateLimit(input: { baseUrl: string; burst: number }): Promise<Probe> {
      return probe(async () => {
        const request = connect(input.baseUrl);
        // Unauthenticated /v1/me: counted by the limiter, answered without touching the database.
        const hit = async () => (await request('GET', '/v1/me')).status;
        let sent = 0;
        while (sent < input.burst) {
          const wave = Math.min(10, input.burst - sent);
          const statuses = await Promise.all(Array.from({ length: wave }, hit));
          sent += wave;
          if (statuses.includes(429)) return passed(undefined, `429 after ${sent} requests`);
        }
        throw new Error(`no 429 after ${sent} requests from one client: rate limiting is off or above ${sent} per minute`);
      });
    },
  };
}

async function inWaves<T>(total: number, concurrency: number, work: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  while (results.length < total) {
    const wave = Math.min(Math.max(1, concurrency), total - results.length);
    results.push(...(await Promise.all(Array.from({ length: wave }, work))));
  }
  return results;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}
