import { expect } from 'chai';
import type { OrderInput } from '../../workflows/orders/contracts';
import { decidePayment, initialState, refusal, rememberPayment, transition } from '../../workflows/orders/state';

const input: OrderInput = {
  orderId: 'o-1',
  businessId: 'b-1',
  customerId: 'c-1',
  idempotencyKey: 'key-00000001',
  requestHash: 'h',
  currency: 'ARS',
  items: [{ productId: 'p-1', name: 'Cortado', unitPriceMinor: 1000, quantity: 2, lineTotalMinor: 2000 }],
  totalMinor: 2000,
  notes: null,
  pickupName: null,
  paymentTimeoutSeconds: 900,
  acceptTimeoutSeconds: 600,
};

const placed = () => {
  const state = initialState(input, Date.parse('2026-11-28T10:00:00Z'));
  transition(state, 'pending_payment', 'placed', {}, Date.now());
  state.setupDone = true;
  return state;
};
const approved = (paymentId: string, amountMinor = 2000) => ({
  paymentId,
  status: 'approved' as const,
  amountMinor,
  currency: 'ARS',
});

describe('order state rules', () => {
  it('when the payment deadline is computed, then it is placement plus the timeout', () => {
    expect(placed().paymentDeadline).to.equal('2026-11-28T10:15:00.000Z');
  });

  it('when a matching payment is approved on a pending order, then it pays it', () => {
    expect(decidePayment(placed(), approved('m-1'))).to.deep.equal({ kind: 'paid' });
  });

  it('when the amount or currency differs, then the payment is refunded, not accepted', () => {
    expect(decidePayment(placed(), approved('m-1', 1999))).to.deep.equal({ kind: 'refund', why: 'amount_mismatch' });
    expect(decidePayment(placed(), { ...approved('m-1'), currency: 'BRL' })).to.deep.equal({
      kind: 'refund',
      why: 'amount_mismatch',
    });
  });

  it('when a second payment is approved on a paid order, then only that one is refunded, and the paying one is never', () => {
    const state = placed();
    state.paymentId = 'm-1';
    transition(state, 'paid', 'payment_approved', {}, Date.now());
    expect(decidePayment(state, approved('m-2'))).to.deep.equal({ kind: 'refund', why: 'duplicate_payment' });
    expect(decidePayment(state, approved('m-1')).kind).to.equal('ignore');
  });

  it('when an expired order receives money, then it is refunded', () => {
    const state = placed();
    transition(state, 'expired', 'expired', {}, Date.now());
    expect(decidePayment(state, approved('m-9'))).to.deep.equal({ kind: 'refund', why: 'paid_while_expired' });
  });

  it('when a stale status arrives after approval, then the remembered status stays approved', () => {
    const state = placed();
    rememberPayment(state, 'm-1', 'approved', true);
    rememberPayment(state, 'm-1', 'pending', true);
    expect(state.seenPayments['m-1']).to.equal('approved');
    rememberPayment(state, 'm-1', 'refunded', true);
    expect(state.seenPayments['m-1']).to.equal('refunded');
  });

  it('when statuses are not ranked (executions from before the patch), then the latest wins as it used to', () => {
    const state = placed();
    rememberPayment(state, 'm-1', 'approved', false);
    rememberPayment(state, 'm-1', 'pending', false);
    expect(state.seenPayments['m-1']).to.equal('pending');
  });

  it('when a rejection arrives for a pending order, then it is recorded once and the order stays payable', () => {
    const state = placed();
    expect(decidePayment(state, { ...approved('m-1'), status: 'rejected' })).to.deep.equal({ kind: 'rejected' });
    rememberPayment(state, 'm-1', 'rejected', true);
    expect(decidePayment(state, { ...approved('m-1'), status: 'rejected' }).kind).to.equal('ignore');
  });

  it('when actions are checked, then staff follow paid→preparing→ready→completed and customers may only cancel early', () => {
    const state = placed();
    const staff = { kind: 'staff' as const, userId: 's' };
    const customer = { kind: 'customer' as const, userId: 'c-1' };
    expect(refusal(state, 'accept', staff)).to.match(/needs an order that is paid/);
    expect(refusal(state, 'cancel', customer)).to.equal(undefined);
    transition(state, 'paid', 'payment_approved', {}, Date.now());
    expect(refusal(state, 'accept', staff)).to.equal(undefined);
    expect(refusal(state, 'accept', customer)).to.equal('only staff can do this');
    transition(state, 'preparing', 'accept', {}, Date.now());
    expect(refusal(state, 'cancel', customer)).to.match(/cannot be cancelled/);
    expect(refusal(state, 'cancel', staff)).to.equal(undefined);
  });

  it('when the order is still being placed, then no action is allowed yet', () => {
    const state = initialState(input, Date.now());
    expect(refusal(state, 'cancel', { kind: 'customer', userId: 'c-1' })).to.equal('the order is still being placed');
  });
});
