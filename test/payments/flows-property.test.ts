import { expect } from 'chai';
import fc from 'fast-check';
import { eventually, pay, placeOrder } from '../support/orders';
import {
  clearFaults,
  getOrder,
  injectApiFault,
  injectNotificationFault,
  notificationsProcessed,
  paymentAtProvider,
  refundEventsFor,
  refundsAtProvider,
  releaseHeld,
  setPaymentStatus,
  settledOrder,
  type ApiFault,
  type NotificationFault,
} from '../support/payments';
import { useOrderStack } from '../support/use-stack';

type Attempt = 'approved' | 'rejected' | 'pending' | 'pending_then_approved';
type Mishap = 'none' | 'drop' | 'duplicate' | 'delay';

interface Scenario {
  attempts: { kind: Attempt; mishaps: [Mishap, Mishap] }[];
  hold: 'none' | 'reverse' | 'shuffle';
  apiFault: 'none' | 'payment_get' | 'search' | 'refund';
  faultStatus: 429 | 500 | 503;
}

const approves = (kind: Attempt) => kind === 'approved' || kind === 'pending_then_approved';

const mishap = fc.constantFrom<Mishap>('none', 'none', 'drop', 'duplicate', 'delay');

/**
 * Any notification may be lost, also of a second approval: the reconciliation at the payment
 * deadline asks MercadoPago for every approved payment and refunds the ones that do not pay the order.
 */
const scenarios: fc.Arbitrary<Scenario> = fc.record({
  attempts: fc.array(
    fc.record({
      kind: fc.constantFrom<Attempt>('approved', 'rejected', 'pending', 'pending_then_approved'),
      mishaps: fc.tuple(mishap, mishap),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  hold: fc.constantFrom<Scenario['hold']>('none', 'reverse', 'shuffle'),
  apiFault: fc.constantFrom<Scenario['apiFault']>('none', 'payment_get', 'search', 'refund'),
  faultStatus: fc.constantFrom<Scenario['faultStatus']>(429, 500, 503),
});

const NOTIFICATION_FAULTS: Record<Exclude<Mishap, 'none'>, NotificationFault> = {
  drop: { type: 'drop' },
  duplicate: { type: 'duplicate', copies: 3 },
  delay: { type: 'delay', delayMs: 300 },
};

const API_FAULTS: Record<Exclude<Scenario['apiFault'], 'none'>, Omit<ApiFault, 'status'>> = {
  payment_get: { method: 'GET', pathPattern: '^/v1/payments/\\d+/?$', times: 1 },
  search: { method: 'GET', pathPattern: '^/v1/payments/search', times: 1 },
  refund: { method: 'POST', pathPattern: '^/v1/payments/\\d+/refunds', times: 1 },
};

describe('payment flows: property over notification and provider faults', () => {
  const the = useOrderStack({
    name: 'flows-property',
    env: { PAYMENT_TIMEOUT_SECONDS: '3', RATE_LIMIT_PER_MINUTE: '100000' },
  });

  const withMishap = async (m: Mishap) => {
    if (m !== 'none') await injectNotificationFault(the.stack, NOTIFICATION_FAULTS[m]);
  };

  /** Plays the buyer and the provider's misbehaviour; returns the payments made, by id. */
  async function play(scenario: Scenario, preferenceId: string): Promise<Map<string, Attempt>> {
    if (scenario.apiFault !== 'none')
      await injectApiFault(the.stack, { ...API_FAULTS[scenario.apiFault], status: scenario.faultStatus });
    if (scenario.hold !== 'none') await injectNotificationFault(the.stack, { type: 'hold' });
    const payments = new Map<string, Attempt>();
    for (const { kind, mishaps } of scenario.attempts) {
      await withMishap(mishaps[0]);
      const status = kind === 'approved' || kind === 'rejected' ? kind : 'pending';
      const payment = await pay(the.stack, preferenceId, status);
      payments.set(String(payment.id), kind);
      if (kind !== 'pending_then_approved') continue;
      await withMishap(mishaps[1]);
      await setPaymentStatus(the.stack, payment.id, 'approved');
    }
    if (scenario.hold !== 'none') await releaseHeld(the.stack, scenario.hold);
    return payments;
  }

  async function check(scenario: Scenario) {
    const order = await placeOrder(the.api, the.customer, the.cafe);
    try {
      const payments = await play(scenario, order.payment.preferenceId);
      // Paid as soon as a notification lands; otherwise only after the deadline's reconciliation.
      await eventually(
        () => getOrder(the.api, the.customer, order.id),
        (o) => o.status !== 'pending_payment',
        15_000,
      );
      await notificationsProcessed(the.stack, [...payments.keys()]);
      // A second approval whose notifications were all lost only surfaces at the deadline's reconciliation.
      await eventually(
        async () =>
          the.stack.emulator
            .requests()
            .some(
              (request) =>
                request.path.startsWith('/v1/payments/search') &&
                request.status === 200 &&
                JSON.stringify(request.query).includes(order.id),
            ),
        (searched) => searched,
        20_000,
      );
      const final = await settledOrder(the.stack, the.api, the.customer, order.id);

      const approved = [...payments].filter(([, kind]) => approves(kind)).map(([id]) => id);
      const kept: string[] = [];
      for (const id of payments.keys()) {
        const refunds = await refundsAtProvider(the.stack, id);
        expect(refunds.length, `refunds of ${id}`).to.be.at.most(1);
        expect(refundEventsFor(final, id).length, `refund events of ${id}`).to.equal(refunds.length);
        if (!approved.includes(id)) expect(refunds, `refunds of unapproved ${id}`).to.have.length(0);
        else if (refunds.length === 0) kept.push(id);
        else expect((await paymentAtProvider(the.stack, id)).status).to.equal('refunded');
      }
      expect(kept.length, 'approved payments kept').to.be.at.most(1);
      if (approved.length === 0) {
        expect(final.status).to.equal('expired');
        return;
      }
      expect(final.status).to.equal('paid');
      expect(kept).to.deep.equal([final.paymentId]);
      expect(final.events.filter((event) => event.type === 'payment_approved')).to.have.length(1);
    } finally {
      await clearFaults(the.stack);
      await releaseHeld(the.stack, 'fifo');
    }
  }

  it('when notifications are lost, repeated, delayed or reordered and the provider fails, then every approved payment is kept by the paid order or refunded exactly once', async function () {
    this.timeout(150_000);
    await fc.assert(
      fc.asyncProperty(scenarios, (scenario) => check(scenario)),
      // Each run is a real order on real servers: few runs, and no shrinking replays on failure.
      { numRuns: 15, endOnFailure: true },
    );
  });
});
