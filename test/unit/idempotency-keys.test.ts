import { expect } from 'chai';
import { preferenceKey, refundKey } from '../../activities/payments/idempotency-keys';

describe('unit: MercadoPago idempotency keys', () => {
  const orderId = '7d1c4f0e-3b1a-4c55-9a57-0f4f3f2b8a10';

  it('when a checkout is created for an order, then its key is preference:<order>, the same on every retry', () => {
    expect(preferenceKey(orderId)).to.equal(`preference:${orderId}`);
    expect(preferenceKey(orderId)).to.equal(preferenceKey(orderId));
  });

  it('when nothing of the payment is refunded yet, then the key is refund:<order>:<payment>', () => {
    expect(refundKey({ orderId, paymentId: '123', refundedMinor: 0 })).to.equal(`refund:${orderId}:123`);
  });

  it('when the provider already holds a partial refund, then the key names what was refunded, so the remainder is a new request', () => {
    const first = refundKey({ orderId, paymentId: '123', refundedMinor: 0 });
    const afterPartial = refundKey({ orderId, paymentId: '123', refundedMinor: 498 });

    expect(afterPartial).to.equal(`refund:${orderId}:123:after-498`);
    expect(afterPartial).not.to.equal(first);
    expect(refundKey({ orderId, paymentId: '123', refundedMinor: 498 })).to.equal(afterPartial);
  });

  it('when two payments or two orders are refunded, then their keys differ', () => {
    const keys = new Set([
      refundKey({ orderId, paymentId: '123', refundedMinor: 0 }),
      refundKey({ orderId, paymentId: '124', refundedMinor: 0 }),
      refundKey({ orderId: 'a1c4f0e7-3b1a-4c55-9a57-0f4f3f2b8a10', paymentId: '123', refundedMinor: 0 }),
    ]);
    expect(keys.size).to.equal(3);
  });
});
