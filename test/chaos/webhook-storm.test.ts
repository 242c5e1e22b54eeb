import { expect } from 'chai';
import { emulatorControl, pay, placeOrder } from '../support/orders';
import {
  emulatedNotificationKey,
  clearFaults,
  eventTypes,
  injectNotificationFault,
  notificationRow,
  notificationsProcessed,
  postWebhook,
  refundAtProvider,
  refundCalls,
  refundsAtProvider,
  releaseHeld,
  sendNotification,
  settledOrder,
  type SignatureMode,
} from '../support/payments';
import { expectEventLogsIntact } from './support/invariants';
import { useOrderStack } from '../support/use-stack';

const COPIES = 10;

/** What happens at the provider for one order before any of its notifications reaches us. */
type Story = 'paid once' | 'rejected, then approved' | 'rejected only' | 'paid twice' | 'approved, then refunded at the provider';

const STORIES: { story: Story; orders: number; payments: ('approved' | 'rejected')[]; refundAtProvider?: boolean }[] = [
  { story: 'paid once', orders: 3, payments: ['approved'] },
  { story: 'rejected, then approved', orders: 2, payments: ['rejected', 'approved'] },
  { story: 'rejected only', orders: 2, payments: ['rejected'] },
  { story: 'paid twice', orders: 2, payments: ['approved', 'approved'] },
  { story: 'approved, then refunded at the provider', orders: 1, payments: ['approved'], refundAtProvider: true },
];
// One notification per payment, plus one per refund at the provider.
const NOTIFICATIONS = STORIES.reduce((sum, s) => sum + s.orders * (s.payments.length + (s.refundAtProvider ? 1 : 0)), 0);

interface Case {
  story: Story;
  orderId: string;
  paymentIds: string[];
}

describe('chaos: a storm of webhooks', () => {
  const the = useOrderStack({ name: 'webhook-storm', env: { RATE_LIMIT_PER_MINUTE: '100000' } });

  /** Every story played at the provider while its notifications are held, ten copies of each. */
  async function playStoriesWhileHeld(): Promise<Case[]> {
    await injectNotificationFault(the.stack, { type: 'hold' });
    await injectNotificationFault(the.stack, { type: 'duplicate', copies: COPIES, times: 1000 });
    const cases: Case[] = [];
    for (const { story, orders, payments, refundAtProvider: refund } of STORIES) {
      for (let i = 0; i < orders; i++) {
        const order = await placeOrder(the.api, the.customer, the.cafe);
        const paymentIds: string[] = [];
        for (const status of payments) paymentIds.push(String((await pay(the.stack, order.payment.preferenceId, status)).id));
        if (refund) await refundAtProvider(the.stack, paymentIds[0]!);
        cases.push({ story, orderId: order.id, paymentIds });
      }
    }
    await clearFaults(the.stack);
    return cases;
  }

  /**
   * One forged and one hour-old delivery from the provider's side, held with the rest; not
   * duplicated, since each is retried against our 401 before the emulator gives up.
   */
  async function badlySignedByProvider(paymentId: string): Promise<string[]> {
    await injectNotificationFault(the.stack, { type: 'hold' });
    const sent = [
      ...(await sendNotification(the.stack, { id: paymentId, signature: 'bad' })).notifications,
      ...(await emulatorControl(the.stack, 'notifications/send', { id: paymentId, signature: 'stale', staleSeconds: 3600 }))
        .notifications,
    ];
    return sent.map(emulatedNotificationKey);
  }

  /** Attackers and clock skew, straight to our endpoint: every signature wrong in its own way. */
  async function forgeries(paymentIds: string[]): Promise<string[]> {
    const modes: SignatureMode[] = ['forged', 'stale', 'missing'];
    const answers = await Promise.all(
      paymentIds.flatMap((dataId) => modes.map((signature) => postWebhook(the.stack, the.api, { dataId, signature }))),
    );
    expect(answers.map((answer) => answer.response.status)).to.deep.equal(answers.map(() => 401));
    return answers.map((answer) => answer.notificationId);
  }

  it(`when every notification arrives ${COPIES} times in shuffled order with forged and stale ones mixed in, then each order ends exactly where the provider's payments put it`, async function () {
    this.timeout(150_000);
    const cases = await playStoriesWhileHeld();
    const paymentIds = cases.flatMap((c) => c.paymentIds);
    const badlySigned = await badlySignedByProvider(paymentIds[0]!);

    const [released, forged] = await Promise.all([releaseHeld(the.stack, 'shuffle'), forgeries(paymentIds.slice(0, 4))]);

    expect(released.released).to.equal(NOTIFICATIONS * COPIES + badlySigned.length);
    for (const c of cases) await expectFinalState(c);
    await expectEventLogsIntact(
      the.stack.db,
      cases.map((c) => c.orderId),
    );
    await expectEachNotificationRecordedOnce(paymentIds);
    for (const id of [...forged, ...badlySigned]) expect(await notificationRow(the.stack, id), id).to.equal(undefined);
  });

  async function expectFinalState({ story, orderId, paymentIds }: Case) {
    const order = await settledOrder(the.stack, the.api, the.customer, orderId);
    const state = [order.status, order.paymentId, eventTypes(order).join()];
    switch (story) {
      case 'paid once':
        return expect(state, story).to.deep.equal(['paid', paymentIds[0], 'placed,payment_approved']);
      case 'rejected, then approved':
        // A rejection handled after the approval is stale and changes nothing.
        expect(state.slice(0, 2), story).to.deep.equal(['paid', paymentIds[1]]);
        return expect(state[2], story).to.be.oneOf(['placed,payment_approved', 'placed,payment_rejected,payment_approved']);
      case 'rejected only':
        return expect(state, story).to.deep.equal(['pending_payment', null, 'placed,payment_rejected']);
      case 'paid twice':
        return expectOnePaymentKeptOneRefunded(orderId, order.paymentId, state[2] as string, paymentIds);
      case 'approved, then refunded at the provider':
        // By the time any notification is handled the provider says "refunded": nothing was ever ours.
        expect(state, story).to.deep.equal(['pending_payment', null, 'placed']);
        return expect(refundCalls(the.stack, paymentIds[0]!), 'refunds we asked for').to.have.length(0);
    }
  }

  async function expectOnePaymentKeptOneRefunded(orderId: string, kept: string | null, events: string, paymentIds: string[]) {
    expect(paymentIds).to.include(kept);
    expect(events).to.equal('placed,payment_approved,payment_to_refund,payment_refunded');
    const extra = paymentIds.find((id) => id !== kept)!;
    expect(await refundsAtProvider(the.stack, extra), `refunds of the extra payment ${extra}`).to.have.length(1);
    expect(await refundsAtProvider(the.stack, kept!), 'refunds of the kept payment').to.have.length(0);
    const made = refundCalls(the.stack, extra).filter((call) => call.status < 300 && !call.idempotentReplay);
    expect(made.map((call) => call.idempotencyKey)).to.deep.equal([`refund:${orderId}:${extra}`]);
  }

  /**
   * Ten deliveries of one notification are one row, processed once. Later notifications (about
   * our own refunds) arrive once each; every row is signed and processed.
   */
  async function expectEachNotificationRecordedOnce(paymentIds: string[]) {
    await notificationsProcessed(the.stack, paymentIds);
    const rows: { id: string; deliveries: number; processedAt: Date | null; signed: boolean }[] = await the.stack
      .db('webhookNotifications')
      .where({ topic: 'payment' })
      .whereIn('resourceId', paymentIds);
    const held = the.stack.emulator
      .notifications()
      .filter((n) => n.faults.includes('duplicate') && n.duplicateOf === undefined)
      .map(emulatedNotificationKey);
    expect(held).to.have.length(NOTIFICATIONS);
    expect(held.map((id) => rows.find((row) => row.id === id)?.deliveries)).to.deep.equal(held.map(() => COPIES));
    expect(rows.filter((row) => !row.signed || row.processedAt === null)).to.deep.equal([]);
  }
});
