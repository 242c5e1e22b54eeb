import { expect } from 'chai';
import { registerUser } from '../support/fixtures';
import { act, openCafe, pay, placeOrder } from '../support/orders';
import { openStream, type SseMessage } from '../board/sse';
import { useOrderStack } from '../support/use-stack';

const orderMessages = (messages: SseMessage[]) => messages.filter((message) => message.event === 'order');
const statusesOf = (messages: SseMessage[]) => orderMessages(messages).map((message) => message.data.order.status);

describe("customer's live order stream (SSE)", () => {
  const the = useOrderStack({
    name: 'customer-stream',
    env: { STREAM_MAX_PER_USER: '2', RATE_LIMIT_PER_MINUTE: '10000' },
    cafe: false,
    customer: false,
  });

  it('when the customer watches an order to the end, then the current state first, each change once, and the stream ends after completed', async () => {
    const cafe = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    const { response, sse } = await openStream(the.stack.baseUrl, `/v1/orders/${order.id}/stream`, customer.token);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('text/event-stream');

    const [first] = await sse.until((messages) => orderMessages(messages).length >= 1);
    expect(first!.data.order).to.include({ id: order.id, status: 'pending_payment', paidAt: null });
    expect(first!.data.events.map((event: { type: string }) => event.type)).to.deep.equal(['placed']);

    await pay(the.stack, order.payment.preferenceId);
    await sse.until((messages) => statusesOf(messages).includes('paid'));
    for (const action of ['accept', 'ready', 'complete']) {
      expect((await act(the.api, cafe.owner, order.id, action)).status, action).to.equal(200);
    }
    const messages = await sse.toEnd();

    expect(sse.ended, 'the stream closes itself').to.equal(true);
    expect(statusesOf(messages).at(-1)).to.equal('completed');
    expect(messages.at(-1)).to.deep.include({ event: 'end', data: { reason: 'ORDER_FINISHED' } });
    const streamed = orderMessages(messages).flatMap((message) => message.data.events);
    const stored = await the.stack.db('orderEvents').where({ orderId: order.id }).orderBy('seq');
    expect(streamed.map((event: { seq: number; type: string }) => `${event.seq}:${event.type}`)).to.deep.equal(
      stored.map((event: { seq: number; type: string }) => `${event.seq}:${event.type}`),
    );
    expect(stored.map((event: { type: string }) => event.type)).to.deep.equal([
      'placed',
      'payment_approved',
      'accept',
      'ready',
      'complete',
    ]);
    const paid = orderMessages(messages).find((message) => message.data.order.status === 'paid')!;
    expect(paid.data.order.paidAt).to.be.a('string');
    expect(Date.parse(paid.data.order.acceptDeadline) - Date.parse(paid.data.order.paidAt)).to.equal(
      the.stack.config.orders.acceptTimeoutSeconds * 1000,
    );
  });

  it('when the order is already finished, then the stream sends its final state and ends', async () => {
    const cafe = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    expect((await act(the.api, customer, order.id, 'cancel')).status).to.equal(200);

    const { sse } = await openStream(the.stack.baseUrl, `/v1/orders/${order.id}/stream`, customer.token);
    const messages = await sse.toEnd();

    expect(statusesOf(messages)).to.deep.equal(['cancelled']);
    expect(messages.at(-1)).to.deep.include({ event: 'end', data: { reason: 'ORDER_FINISHED' } });
  });

  it("when the café's owner or a stranger asks for a customer's stream, then 404 NOT_FOUND as for an unknown order", async () => {
    const cafe = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const stranger = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);

    for (const user of [cafe.owner, stranger]) {
      const res = await the.api.get(`/v1/orders/${order.id}/stream`, { token: user.token });
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('NOT_FOUND');
    }
  });

  it('when a customer opens more streams than the cap, then 429 TOO_MANY_STREAMS until one closes', async () => {
    const cafe = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    const path = `/v1/orders/${order.id}/stream`;
    const open = [
      await openStream(the.stack.baseUrl, path, customer.token),
      await openStream(the.stack.baseUrl, path, customer.token),
    ];
    expect(open.map(({ response }) => response.status)).to.deep.equal([200, 200]);

    const refused = await the.api.get(path, { token: customer.token });
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.include({ code: 'TOO_MANY_STREAMS' });
    expect(refused.body.error.details).to.deep.equal({ limit: 2 });

    await open[0]!.sse.cancel();
    const again = await eventuallyOpen(the.stack.baseUrl, path, customer.token);
    expect(again.response.status).to.equal(200);
    await Promise.all([open[1]!.sse.cancel(), again.sse.cancel()]);
  });
});

/** The server frees a slot when it sees the socket close, a moment after the client cancels. */
async function eventuallyOpen(baseUrl: string, path: string, token: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const attempt = await openStream(baseUrl, path, token);
    if (attempt.response.status !== 429 || Date.now() > deadline) return attempt;
    await attempt.response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
