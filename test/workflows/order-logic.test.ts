import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { createOrderActivities } from '../../activities/orders';
import type { createPaymentActivities } from '../../activities/payments';
import {
  acceptUpdate,
  cancelUpdate,
  completeUpdate,
  orderWorkflowId,
  paymentUpdateSignal,
  readyUpdate,
  statusQuery,
  type OrderEvent,
  type OrderInput,
  type OrderStatus,
} from '../../workflows/orders/contracts';
import type { processOrder } from '../../workflows/orders/order-workflow';
import { initialState, type OrderState } from '../../workflows/orders/state';
import { PaymentFailure } from '../../workflows/payments/contracts';
import { timeSkippingServer, uniqueTaskQueue, workflowBundle } from '../support/temporal';

type OrderActivities = ReturnType<typeof createOrderActivities>;
type PaymentActivities = ReturnType<typeof createPaymentActivities>;
type Refund = Parameters<PaymentActivities['refundPayment']>[0];
type ApprovedPayment = Awaited<ReturnType<PaymentActivities['findApprovedPayments']>>[number];

const staff = { kind: 'staff', userId: randomUUID() } as const;

/**
 * The order workflow's decisions with plain functions for activities (local and regular alike), on
 * the time-skipping server: no Postgres, no provider, no real waiting. A rule checked here in
 * seconds is also covered end to end against the real stack (test/orders, test/payments).
 */
describe('order workflow logic with stubbed activities (time-skipping)', () => {
  let env: TestWorkflowEnvironment;

  // A server per test: one test's clock and leftovers cannot hold up the next (CI once saw three
  // tests in a row stall after the first passed, on a server the whole suite shared).
  beforeEach(async () => {
    env = await timeSkippingServer();
  });
  afterEach(async () => {
    await env?.teardown();
  });

  /** What the stubs were asked to do, and what the provider holds. */
  function stubs(provider: { approved?: ApprovedPayment[]; refuseRefunds?: boolean } = {}) {
    const calls = { placed: 0, checkouts: 0, events: [] as OrderEvent[], refunds: [] as Refund[], searches: 0 };
    const activities = {
      async recordOrderPlaced(input: Parameters<OrderActivities['recordOrderPlaced']>[0]) {
        calls.placed += 1;
        calls.events.push(input.event);
      },
      async recordOrderEvent(input: Parameters<OrderActivities['recordOrderEvent']>[0]) {
        calls.events.push(input.event);
      },
      async createCheckout(input: Parameters<PaymentActivities['createCheckout']>[0]) {
        calls.checkouts += 1;
        return {
          provider: 'mercadopago' as const,
          amountMinor: input.totalMinor,
          currency: input.currency,
          deadline: input.deadline,
          preferenceId: `pref-${input.orderId}`,
          checkoutUrl: `http://checkout.test/${input.orderId}`,
        };
      },
      async findApprovedPayments() {
        calls.searches += 1;
        return provider.approved ?? [];
      },
      async refundPayment(input: Refund) {
        calls.refunds.push(input);
        if (provider.refuseRefunds) {
          throw ApplicationFailure.nonRetryable(
            'MercadoPago refused the request: refund window closed',
            PaymentFailure.ProviderRejected,
          );
        }
        return { refundId: `refund-${calls.refunds.length}` };
      },
    };
    return { calls, activities };
  }

  /** Runs `fn` while a worker with these activities serves a task queue of its own. */
  async function executeWithWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('order-logic');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
    return worker.runUntil(fn(taskQueue));
  }

  function orderInput(): OrderInput {
    return {
      orderId: randomUUID(),
      businessId: randomUUID(),
      customerId: randomUUID(),
      idempotencyKey: randomUUID(),
      requestHash: 'hash',
      currency: 'ARS',
      items: [{ productId: randomUUID(), name: 'Cortado', unitPriceMinor: 1200, quantity: 2, lineTotalMinor: 2400 }],
      totalMinor: 2400,
      notes: null,
      pickupName: null,
      paymentTimeoutSeconds: 15 * 60,
      acceptTimeoutSeconds: 10 * 60,
    };
  }

  const start = (taskQueue: string, input: OrderInput, carried?: OrderState) =>
    env.client.workflow.start<typeof processOrder>('processOrder', {
      taskQueue,
      workflowId: orderWorkflowId(input.businessId, input.orderId),
      args: carried ? [input, carried] : [input],
    });

  /** Polls the workflow (without skipping time) until it reaches `status`. */
  async function untilStatus(handle: WorkflowHandle<typeof processOrder>, status: OrderStatus): Promise<void> {
    const until = Date.now() + 10_000;
    let seen = await handle.query(statusQuery);
    while (seen !== status && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await handle.query(statusQuery);
    }
    if (seen !== status) {
      // What the server recorded, so a stall says where it stopped.
      const events = (await handle.fetchHistory()).events ?? [];
      const story = events.map((event) => Object.keys(event).find((key) => key.endsWith('EventAttributes')) ?? '?');
      expect(seen, `history: ${story.join(', ')}`).to.equal(status);
    }
  }

  const approval = (input: OrderInput, paymentId: string) => ({
    paymentId,
    status: 'approved' as const,
    amountMinor: input.totalMinor,
    currency: input.currency,
  });

  const story = (events: OrderEvent[]) => events.map((event) => `${event.seq}:${event.type}:${event.toStatus}`);

  it('when a paid order is cancelled, then its payment is refunded once for the full amount and the order ends refunded', async () => {
    const { calls, activities } = stubs();
    const input = orderInput();

    const result = await executeWithWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, input);
      await handle.signal(paymentUpdateSignal, approval(input, 'pay-1'));
      await untilStatus(handle, 'paid');
      await handle.executeUpdate(cancelUpdate, { args: [{ actor: staff, reason: 'out of milk' }] });
      return handle.result();
    });

    expect(result).to.include({ status: 'refunded', paymentId: 'pay-1', refundId: 'refund-1', cancelReason: 'out of milk' });
    expect(calls.refunds).to.deep.equal([
      { orderId: input.orderId, paymentId: 'pay-1', amountMinor: 2400, reason: 'order_cancelled' },
    ]);
    expect(story(calls.events)).to.deep.equal([
      '1:placed:pending_payment',
      '2:payment_approved:paid',
      '3:cancelled:cancelled',
      '4:refunded:refunded',
    ]);
  });

  it('when the provider refuses the refund, then the order records refund_failed, stays cancelled and the workflow completes', async () => {
    const { calls, activities } = stubs({ refuseRefunds: true });
    const input = orderInput();

    const result = await executeWithWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, input);
      await handle.signal(paymentUpdateSignal, approval(input, 'pay-2'));
      await untilStatus(handle, 'paid');
      await handle.executeUpdate(cancelUpdate, { args: [{ actor: staff, reason: 'closing early' }] });
      return handle.result();
    });

    expect(result.status).to.equal('cancelled');
    expect(result.refundId).to.equal(null);
    expect(calls.refunds).to.have.length(1);
    const failed = calls.events.at(-1)!;
    expect(failed).to.include({ type: 'refund_failed', fromStatus: 'cancelled', toStatus: 'cancelled' });
    expect(failed.data).to.deep.include({ paymentId: 'pay-2', amountMinor: 2400, reason: 'order_cancelled' });
    expect(String(failed.data.error)).to.include('refund window closed');
  });

  it('when no webhook came but the provider holds an approved payment at the deadline, then reconciliation makes the order paid', async () => {
    const input = orderInput();
    const { calls, activities } = stubs({ approved: [approval(input, 'pay-3')] });

    await executeWithWorker(activities, async (taskQueue) => {
      const handle = await start(taskQueue, input);
      await untilStatus(handle, 'pending_payment');
      await env.sleep('16 minutes');
      await untilStatus(handle, 'paid');
      // Paid by reconciliation, the order goes on to staff as any other.
      await handle.executeUpdate(acceptUpdate, { args: [{ actor: staff }] });
      await handle.terminate('test done');
    });

    expect(calls.searches).to.equal(1);
    expect(story(calls.events)).to.deep.equal(['1:placed:pending_payment', '2:payment_approved:paid', '3:accept:preparing']);
    expect(calls.events[1]!.data).to.deep.include({ paymentId: 'pay-3', statusDetail: 'reconciled' });
    expect(calls.refunds).to.deep.equal([]);
  });

  it('when the provider holds no approved payment at the deadline, then the order expires and nothing is refunded', async () => {
    const { calls, activities } = stubs({ approved: [] });
    const input = orderInput();

    const result = await executeWithWorker(activities, async (taskQueue) => (await start(taskQueue, input)).result());

    expect(result.status).to.equal('expired');
    expect(calls.searches).to.equal(1);
    expect(story(calls.events)).to.deep.equal(['1:placed:pending_payment', '2:expired:expired']);
    expect(calls.refunds).to.deep.equal([]);
  });

  describe('continue-as-new', () => {
    /** The state a run hands to the next one: placed and paid, two events recorded. */
    async function paidState(input: OrderInput): Promise<OrderState> {
      // The test server's clock, which earlier tests have moved on: deadlines must lie ahead of it.
      const placedAt = await env.currentTimeMs();
      const state = initialState(input, placedAt);
      return {
        ...state,
        status: 'paid',
        seq: 2,
        recordedSeq: 2,
        paymentId: 'pay-4',
        paidAt: new Date(placedAt).toISOString(),
        acceptDeadline: new Date(placedAt + input.acceptTimeoutSeconds * 1000).toISOString(),
        seenPayments: { 'pay-4': 'approved' },
        setupDone: true,
        placementAnswered: true,
        indexedStatus: 'paid',
        payment: { ...state.payment, preferenceId: 'pref-carried', checkoutUrl: 'http://checkout.test/carried' },
      };
    }

    it('when a run starts from a carried paid order, then it is not placed again and staff take it to completed from seq 3', async () => {
      const { calls, activities } = stubs();
      const input = orderInput();

      const result = await executeWithWorker(activities, async (taskQueue) => {
        const handle = await start(taskQueue, input, await paidState(input));
        for (const update of [acceptUpdate, readyUpdate, completeUpdate])
          await handle.executeUpdate(update, { args: [{ actor: staff }] });
        return handle.result();
      });

      expect(calls.placed).to.equal(0);
      expect(calls.checkouts).to.equal(0);
      expect(story(calls.events)).to.deep.equal(['3:accept:preparing', '4:ready:ready', '5:complete:completed']);
      expect(result).to.include({ status: 'completed', paymentId: 'pay-4' });
    });

    it('when a carried paid order sees its own approval again, then it is a duplicate and nothing is refunded', async () => {
      const { calls, activities } = stubs();
      const input = orderInput();

      const result = await executeWithWorker(activities, async (taskQueue) => {
        const handle = await start(taskQueue, input, await paidState(input));
        await handle.signal(paymentUpdateSignal, approval(input, 'pay-4'));
        await handle.executeUpdate(cancelUpdate, { args: [{ actor: staff, reason: 'customer left' }] });
        return handle.result();
      });

      // The carried memory of pay-4 holds: one refund, for the cancellation only.
      expect(calls.refunds).to.deep.equal([
        { orderId: input.orderId, paymentId: 'pay-4', amountMinor: 2400, reason: 'order_cancelled' },
      ]);
      expect(story(calls.events)).to.deep.equal(['3:cancelled:cancelled', '4:refunded:refunded']);
      expect(result.status).to.equal('refunded');
    });

    it('when a carried order is still owed a refund, then the new run makes it and settles the order', async () => {
      const { calls, activities } = stubs();
      const input = orderInput();
      const carried = await paidState(input);
      carried.status = 'cancelled';
      carried.seq = 3;
      carried.recordedSeq = 3;
      carried.cancelReason = 'out of milk';
      carried.refunds = [{ paymentId: 'pay-4', amountMinor: 2400, reason: 'order_cancelled', settlesOrder: true }];

      const result = await executeWithWorker(activities, async (taskQueue) => (await start(taskQueue, input, carried)).result());

      expect(calls.refunds.map((refund) => refund.paymentId)).to.deep.equal(['pay-4']);
      expect(story(calls.events)).to.deep.equal(['4:refunded:refunded']);
      expect(result).to.include({ status: 'refunded', refundId: 'refund-1' });
    });
  });
});
