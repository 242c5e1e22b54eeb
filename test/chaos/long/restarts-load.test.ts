import { expect } from 'chai';
import { type TestUser } from '../../support/fixtures';
import { type HttpClient } from '../../support/http';
import { eventually, randomUUID, type Cafe } from '../../support/orders';
import { startDedicatedStack } from '../support/dedicated-stack';
import { useCafeStack } from '../../support/use-stack';
import { driveTo } from '../support/drive';
import { expectEventLogsIntact, expectProviderSideEffectsOnce, inBatches, payAtProvider } from '../support/invariants';

interface Attempt {
  key: string;
  status: number;
  code?: string;
  ms: number;
}

/**
 * Customers placing orders the whole time, each retrying its own Idempotency-Key after a 503 as a
 * well-behaved client does. Bounded by `until` and by a cap on requests.
 */
function customersPlacing(api: HttpClient, customer: TestUser, cafe: Cafe, perSecond: number) {
  const attempts: Attempt[] = [];
  const placed = new Map<string, { id: string; preferenceId: string }>();
  let starting = true;
  const body = { items: [{ productId: cafe.products[0]!.id, quantity: 1 }] };
  async function one(key: string): Promise<void> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const started = Date.now();
      const response = await api.post(`/v1/businesses/${cafe.id}/orders`, body, {
        token: customer.token,
        headers: { 'idempotency-key': key },
      });
      attempts.push({ key, status: response.status, code: response.body?.error?.code, ms: Date.now() - started });
      if (response.status === 201 || response.status === 200) {
        placed.set(key, { id: response.body.id, preferenceId: response.body.payment.preferenceId });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const inFlight: Promise<void>[] = [];
  const loop = (async () => {
    for (let n = 0; starting && n < 2000; n++) {
      inFlight.push(one(randomUUID()));
      await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
    }
  })();
  return {
    attempts,
    placed,
    /** Stops starting new orders and waits for the retries of those started (each bounded to 60 attempts). */
    async stop() {
      starting = false;
      await loop;
      await Promise.all(inFlight);
    },
  };
}

describe('chaos (long): Postgres and the Temporal server restart under load', () => {
  const the = useCafeStack(() => startDedicatedStack('restarts-load'), { timeoutMs: { start: 180_000, stop: 60_000 } });

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const ready = () =>
    eventually(
      () => the.api.get('/ready'),
      (r) => r.status === 200,
      90_000,
    );

  it('when both restart while customers keep placing orders, then every answer is a 2xx or a 503 SERVICE_UNAVAILABLE, every key ends as one order, and every order completes', async function () {
    this.timeout(900_000);
    const load = customersPlacing(the.api, the.customer, the.cafe, 3);
    await pause(5_000);
    await the.stack.postgres.stop();
    await pause(5_000);
    await the.stack.postgres.start();
    await ready();
    await pause(5_000);
    await the.stack.temporal.stop();
    await pause(10_000);
    await the.stack.temporal.start();
    await ready();
    await pause(5_000);
    // Retries of keys refused during the outages run to completion, now that both are back.
    await load.stop();

    const refusals = load.attempts.filter((a) => a.status !== 201 && a.status !== 200);
    expect(refusals.filter((a) => a.status !== 503 || a.code !== 'SERVICE_UNAVAILABLE')).to.deep.equal([]);
    expect(refusals.length, 'some placements met an outage').to.be.greaterThan(0);
    const keys = new Set(load.attempts.map((a) => a.key));
    expect(load.placed.size, 'every key was placed in the end').to.equal(keys.size);

    const orders = [...load.placed.values()];
    const actors = { api: the.api, customer: the.customer, staff: the.cafe.owner };
    await inBatches(orders, 5, async (order) => {
      await payAtProvider(the.stack.emulator.url, order.preferenceId);
      expect(await driveTo(actors, order.id, 'completed')).to.equal('completed');
    });
    const ids = orders.map((order) => order.id);
    expect(new Set(ids).size, 'one order per key').to.equal(ids.length);
    await expectEventLogsIntact(the.stack.db, ids);
    expectProviderSideEffectsOnce(the.stack.emulator.requests(), ids);
    expect(the.stack.worker.alive(), the.stack.worker.tail()).to.equal(true);
  });
});
