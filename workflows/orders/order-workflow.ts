import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { PaymentFailure } from '../payments/contracts';
import {
  OrderFailure,
  acceptUpdate,
  cancelUpdate,
  completeUpdate,
  detailsQuery,
  paymentUpdateSignal,
  placeUpdate,
  readyUpdate,
  statusQuery,
  STAFF_TRANSITIONS,
  type Actor,
  type OrderInput,
  type OrderView,
  type PaymentUpdate,
} from './contracts';
import { ORDER_STATUS_KEY } from './search-attributes';
import { decidePayment, initialState, isTerminal, refusal, rememberPayment, transition, view, type OrderState } from './state';
import { legacyCheckout, legacyRecords, localRecords, money, placementCheckout, placementRecords } from './steps';

const now = () => Date.now();

/** Patches: each changes what an execution does, so old histories replay on the old path. */
const Patches = {
  // At the payment deadline, reconcile every approved payment (also of paid orders), not only the first.
  reconcileAllPayments: 'reconcile-all-approved-payments',
  // A stale provider status no longer overwrites a more settled one.
  rankPaymentStatuses: 'rank-payment-statuses',
  // Placement records the order and creates the checkout as local activities in the first workflow
  // task, which also answers the place update: one trip through the engine per placement.
  earlyReturn: 'early-return-placement',
  // Read-model events are written by local activities in the workflow task that made them, so a
  // staff update or a payment signal is answered from one workflow task.
  localReadModel: 'local-read-model',
  // A refund the provider refuses is recorded on the order (and alerted on) instead of failing the workflow.
  recordRefundRefusals: 'record-refund-refusals',
} as const;

/** One order, from placement to a terminal state. */
export async function processOrder(input: OrderInput, carried?: OrderState): Promise<OrderView> {
  const state = carried ?? initialState(input, now());
  registerHandlers(state);
  if (!carried) await setup(state);
  if (state.notRecorded) {
    // The place update has been answered with the failure; failing the run lets the customer's
    // retry (same Idempotency-Key) start a fresh one (reuse policy ALLOW_DUPLICATE_FAILED_ONLY).
    await condition(allHandlersFinished);
    throw ApplicationFailure.nonRetryable('The order could not be recorded', OrderFailure.OrderNotRecorded);
  }
  for (;;) {
    await runUntilSettled(state);
    // A signal can land while the workflow is finishing; it re-runs the task, so look again.
    await condition(allHandlersFinished);
    if (state.outbox.length === 0 && state.refunds.length === 0) break;
  }
  return view(state);
}

const settled = (state: OrderState) => isTerminal(state.status) && state.outbox.length === 0 && state.refunds.length === 0;

async function runUntilSettled(state: OrderState): Promise<void> {
  for (;;) {
    await flushEvents(state);
    await settleRefunds(state);
    if (settled(state)) return;
    await waitForNextStep(state);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await flushEvents(state);
      await continueAsNew<typeof processOrder>(state.input, state);
    }
  }
}

function registerHandlers(state: OrderState): void {
  setHandler(statusQuery, () => state.status);
  setHandler(detailsQuery, () => view(state));
  setHandler(paymentUpdateSignal, (update) => onPayment(state, update));

  setHandler(
    placeUpdate,
    async () => {
      await condition(() => state.setupDone);
      if (state.notRecorded) throw ApplicationFailure.nonRetryable(state.setupError ?? '', OrderFailure.OrderNotRecorded);
      if (state.setupError) throw ApplicationFailure.nonRetryable(state.setupError, OrderFailure.PaymentSetupFailed);
      return { order: view(state), created: markAnswered(state) };
    },
    {
      // A different body under the same Idempotency-Key is refused before it touches history.
      validator: ({ requestHash }) => {
        if (requestHash !== state.input.requestHash) {
          throw ApplicationFailure.nonRetryable(
            'Idempotency-Key reused with a different order',
            OrderFailure.IdempotencyKeyReused,
          );
        }
      },
    },
  );

  for (const [definition, action] of [
    [acceptUpdate, 'accept'],
    [readyUpdate, 'ready'],
    [completeUpdate, 'complete'],
  ] as const) {
    setHandler(
      definition,
      async ({ actor }) => {
        const event = transition(state, STAFF_TRANSITIONS[action].to, action, { actor }, now());
        return recorded(state, event.seq);
      },
      { validator: ({ actor }) => refuseIfNeeded(state, action, actor) },
    );
  }

  setHandler(cancelUpdate, async ({ actor, reason }) => recorded(state, cancel(state, reason, actor).seq), {
    validator: ({ actor, reason }) => {
      refuseIfNeeded(state, 'cancel', actor);
      if (!reason || reason.length > 500)
        throw ApplicationFailure.nonRetryable('A reason of 1-500 characters is required', OrderFailure.NotAllowed);
    },
  });
}

// 201 for the request that created the order, 200 for every repeat of it.
function markAnswered(state: OrderState): boolean {
  const first = !state.placementAnswered;
  state.placementAnswered = true;
  return first;
}

function refuseIfNeeded(state: OrderState, action: 'accept' | 'ready' | 'complete' | 'cancel', actor: Actor): void {
  const why = refusal(state, action, actor);
  if (why) {
    throw ApplicationFailure.nonRetryable(why, OrderFailure.InvalidTransition, { status: state.status, action });
  }
}

/** Handlers answer once their event is in Postgres, so a GET right after sees the change. */
async function recorded(state: OrderState, seq: number): Promise<OrderView> {
  await condition(() => state.recordedSeq >= seq);
  return view(state);
}

async function setup(state: OrderState): Promise<void> {
  const early = patched(Patches.earlyReturn);
  const event = transition(state, 'pending_payment', 'placed', {}, now());
  // The start already set OrderStatus to pending_payment; the first version upserted it again.
  if (early) state.indexedStatus = state.status;
  else indexStatus(state);
  const placed = {
    order: view(state),
    idempotencyKey: state.input.idempotencyKey,
    requestHash: state.input.requestHash,
    workflowId: workflowInfo().workflowId,
    paymentDeadline: state.paymentDeadline,
    event,
  };
  try {
    await (early ? placementRecords : legacyRecords).recordOrderPlaced(placed);
  } catch (error) {
    log.error('order could not be recorded', { orderId: state.input.orderId, error: String(error) });
    state.notRecorded = true;
    state.setupError = 'The order could not be stored; nothing was placed';
    state.setupDone = true;
    return;
  }
  state.outbox.shift();
  state.recordedSeq = event.seq;
  try {
    state.payment = await (early ? placementCheckout : legacyCheckout).createCheckout({
      orderId: state.input.orderId,
      businessId: state.input.businessId,
      items: state.input.items,
      totalMinor: state.input.totalMinor,
      currency: state.input.currency,
      deadline: state.paymentDeadline,
    });
  } catch (error) {
    log.error('checkout could not be created; cancelling the order', { orderId: state.input.orderId, error: String(error) });
    state.setupError = 'The payment provider could not set up the checkout; the order was cancelled';
    cancel(state, 'payment_setup_failed', { kind: 'system' });
  }
  state.setupDone = true;
}

function cancel(state: OrderState, reason: string, actor: Actor) {
  const event = transition(state, 'cancelled', 'cancelled', { reason, actor }, now());
  state.cancelReason = reason;
  if (state.paymentId) {
    state.refunds.push({
      paymentId: state.paymentId,
      amountMinor: state.input.totalMinor,
      reason: 'order_cancelled',
      settlesOrder: true,
    });
  }
  return event;
}

function onPayment(state: OrderState, update: PaymentUpdate): void {
  const decision = decidePayment(state, update);
  rememberPayment(state, update.paymentId, update.status, patched(Patches.rankPaymentStatuses));
  const data = { paymentId: update.paymentId, paymentStatus: update.status, statusDetail: update.statusDetail ?? null };
  switch (decision.kind) {
    case 'paid':
      state.paymentId = update.paymentId;
      state.paidAt = new Date(now()).toISOString();
      state.acceptDeadline = new Date(now() + state.input.acceptTimeoutSeconds * 1000).toISOString();
      transition(state, 'paid', 'payment_approved', data, now());
      return;
    case 'rejected':
      transition(state, state.status, 'payment_rejected', data, now());
      return;
    case 'refund':
      state.refunds.push({
        paymentId: update.paymentId,
        amountMinor: update.amountMinor,
        reason: decision.why,
        settlesOrder: false,
      });
      transition(state, state.status, 'payment_to_refund', { ...data, reason: decision.why }, now());
      return;
    case 'reversed':
      transition(state, 'refunded', `payment_${decision.why}`, data, now());
      return;
    case 'ignore':
      log.info('payment notification needs no action', { orderId: state.input.orderId, why: decision.why });
  }
}

/** Writes queued events one at a time, in order, so the read model never skips or repeats a step. */
async function flushEvents(state: OrderState): Promise<void> {
  while (state.outbox.length > 0) {
    const event = state.outbox[0]!;
    const records = patched(Patches.localReadModel) ? localRecords : legacyRecords;
    await records.recordOrderEvent({
      event,
      totalMinor: state.input.totalMinor,
      currency: state.input.currency,
      placedAt: state.placedAt,
      paymentId: state.paymentId,
      refundId: state.refundId,
      cancelReason: state.cancelReason,
    });
    state.outbox.shift();
    state.recordedSeq = event.seq;
  }
  indexStatus(state);
}

/** Keeps the OrderStatus search attribute in step, one upsert per status change. */
function indexStatus(state: OrderState): void {
  if (state.indexedStatus === state.status) return;
  upsertSearchAttributes([{ key: ORDER_STATUS_KEY, value: state.status }]);
  state.indexedStatus = state.status;
}

/** Compensation: every payment that must not be kept is refunded, oldest first. */
async function settleRefunds(state: OrderState): Promise<void> {
  while (state.refunds.length > 0) {
    const job = state.refunds[0]!;
    const refund = await refundOrRefusal(state, job);
    state.refunds.shift();
    if ('refusal' in refund) {
      // The money stays where it is: staff and operators are told (event, metric, alert), the order goes on.
      log.error('the provider refused a refund', { orderId: state.input.orderId, paymentId: job.paymentId });
      transition(
        state,
        state.status,
        'refund_failed',
        { paymentId: job.paymentId, amountMinor: job.amountMinor, reason: job.reason, error: refund.refusal },
        now(),
      );
    } else if (job.settlesOrder) {
      state.refundId = refund.refundId;
      transition(
        state,
        'refunded',
        'refunded',
        { paymentId: job.paymentId, refundId: refund.refundId, reason: job.reason },
        now(),
      );
    } else {
      transition(
        state,
        state.status,
        'payment_refunded',
        { paymentId: job.paymentId, refundId: refund.refundId, reason: job.reason },
        now(),
      );
    }
    await flushEvents(state);
  }
}

async function refundOrRefusal(state: OrderState, job: OrderState['refunds'][number]) {
  try {
    return await money.refundPayment({
      orderId: state.input.orderId,
      paymentId: job.paymentId,
      amountMinor: job.amountMinor,
      reason: job.reason,
    });
  } catch (error) {
    const refused =
      error instanceof ActivityFailure &&
      error.cause instanceof ApplicationFailure &&
      error.cause.type === PaymentFailure.ProviderRejected;
    if (refused && patched(Patches.recordRefundRefusals)) return { refusal: error.cause.message };
    throw error;
  }
}

/** Sleeps until something happens, or until the next deadline passes. */
async function waitForNextStep(state: OrderState): Promise<void> {
  const status = state.status;
  const wake = () => state.status !== status || state.outbox.length > 0 || state.refunds.length > 0;
  const deadlines: { at: string; kind: 'payment' | 'accept' }[] = [];
  if (paymentDeadlineApplies(state, status)) deadlines.push({ at: state.paymentDeadline, kind: 'payment' });
  if (status === 'paid' && state.acceptDeadline) deadlines.push({ at: state.acceptDeadline, kind: 'accept' });
  const next = deadlines.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
  if (!next) return condition(wake);
  const woke = await condition(wake, Math.max(1, Date.parse(next.at) - now()));
  if (woke) return;
  if (next.kind === 'payment') await reconcile(state);
  else cancel(state, 'not_accepted_in_time', { kind: 'system' });
}

function paymentDeadlineApplies(state: OrderState, status: OrderState['status']): boolean {
  if (status === 'pending_payment') return true;
  if (state.reconciled || isTerminal(status)) return false;
  return patched(Patches.reconcileAllPayments);
}

/**
 * At the payment deadline, ask the provider itself: a payment approved while webhooks were not
 * arriving still makes the order paid, and any other approved payment is refunded.
 */
async function reconcile(state: OrderState): Promise<void> {
  if (patched(Patches.reconcileAllPayments)) {
    state.reconciled = true;
    const found = await money.findApprovedPayments({ orderId: state.input.orderId });
    for (const payment of found) onPayment(state, { ...payment, statusDetail: 'reconciled' });
  } else {
    const found = await money.findApprovedPayment({ orderId: state.input.orderId });
    if (found) onPayment(state, { ...found, statusDetail: 'reconciled' });
  }
  if (state.status === 'pending_payment') {
    transition(state, 'expired', 'expired', { reason: 'payment_deadline_passed' }, now());
  }
}
