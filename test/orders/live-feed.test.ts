import { expect } from 'chai';
import { addMember, registerUser } from '../support/fixtures';
import { openStream } from '../board/sse';
import { act, eventually, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';
import { useOrderStack } from '../support/use-stack';

interface FeedEvent {
  orderId: string;
  seq: number;
  type: string;
  status: string;
}

/** Reads Server-Sent Events from a response body until `done` says enough. */
async function collect(response: Response, done: (events: FeedEvent[]) => boolean, timeoutMs = 20_000): Promise<FeedEvent[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: FeedEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    if (Date.now() > deadline) throw new Error(`feed incomplete: ${JSON.stringify(events)}`);
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      if (block.includes('event: order') && data) events.push(JSON.parse(data.slice(6)));
      boundary = buffer.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return events;
}

describe('live order feed (SSE)', () => {
  const the = useOrderStack({
    name: 'feed',
    env: { STREAM_ROLE_CHECK_SECONDS: '1', STREAM_MAX_PER_USER: '3', RATE_LIMIT_PER_MINUTE: '10000' },
    cafe: false,
    customer: false,
  });

  it("when orders change, then the café's staff see every change in order, and only their café's", async () => {
    const cafe = await openCafe(the.api);
    const other = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const response = await fetch(`${the.stack.baseUrl}/v1/businesses/${cafe.id}/orders/stream`, {
      headers: { authorization: `Bearer ${cafe.owner.token}` },
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('text/event-stream');

    await placeOrder(the.api, customer, other);
    const order = await placeOrder(the.api, customer, cafe);
    await pay(the.stack, order.payment.preferenceId);
    await orderWithStatus(the.api, customer, order.id, 'paid');
    await act(the.api, cafe.owner, order.id, 'accept');

    const events = await collect(response, (seen) => seen.some((event) => event.type === 'accept'));
    expect(events.every((event) => event.orderId === order.id)).to.equal(true);
    expect(events.map((event) => `${event.seq}:${event.type}:${event.status}`)).to.deep.equal([
      '1:placed:pending_payment',
      '2:payment_approved:paid',
      '3:accept:preparing',
    ]);
  });

  it('when someone who is not staff subscribes, then it answers 404 and streams nothing', async () => {
    const cafe = await openCafe(the.api);
    const stranger = await registerUser(the.api);
    const response = await the.api.get(`/v1/businesses/${cafe.id}/orders/stream`, { token: stranger.token });
    expect(response.status).to.equal(404);
    expect(response.body.error.code).to.equal('NOT_FOUND');
  });

  it('when a staff member is removed from the café, then their open stream ends with ACCESS_REVOKED', async () => {
    const cafe = await openCafe(the.api);
    const barista = await registerUser(the.api, 'Barista');
    await addMember(the.api, cafe.owner, cafe.id, barista, 'staff');
    const { response, sse } = await openStream(the.stack.baseUrl, `/v1/businesses/${cafe.id}/orders/stream`, barista.token);
    expect(response.status).to.equal(200);
    const started = Date.now();

    const removed = await the.api.delete(`/v1/businesses/${cafe.id}/members/${barista.id}`, { token: cafe.owner.token });
    expect(removed.status).to.equal(204);
    const messages = await sse.toEnd(10_000);

    expect(sse.ended, 'the server closed the stream').to.equal(true);
    expect(messages.at(-1)).to.deep.include({ event: 'end', data: { reason: 'ACCESS_REVOKED' } });
    expect(Date.now() - started, 'within about one check period').to.be.lessThan(5000);
    const again = await the.api.get(`/v1/businesses/${cafe.id}/orders/stream`, { token: barista.token });
    expect(again.status).to.equal(404);
  });

  it('when staff who are still members keep a stream open past a role check, then it stays open', async () => {
    const cafe = await openCafe(the.api);
    const { sse } = await openStream(the.stack.baseUrl, `/v1/businesses/${cafe.id}/orders/stream`, cafe.owner.token);

    await new Promise((resolve) => setTimeout(resolve, 2500));
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    const messages = await sse.until((seen) => seen.some((message) => message.data.orderId === order.id));

    expect(sse.ended).to.equal(false);
    expect(messages.filter((message) => message.event === 'end')).to.deep.equal([]);
    await sse.cancel();
  });

  it('when one user opens more streams than the cap, then 429 TOO_MANY_STREAMS and the open ones keep working', async () => {
    const cafe = await openCafe(the.api);
    const path = `/v1/businesses/${cafe.id}/orders/stream`;
    const open = await Promise.all([1, 2, 3].map(() => openStream(the.stack.baseUrl, path, cafe.owner.token)));
    expect(open.map(({ response }) => response.status)).to.deep.equal([200, 200, 200]);

    const refused = await the.api.get(path, { token: cafe.owner.token });
    expect(refused.status).to.equal(429);
    expect(refused.body.error.code).to.equal('TOO_MANY_STREAMS');
    const otherCafe = await openCafe(the.api);
    const otherUser = await openStream(the.stack.baseUrl, `/v1/businesses/${otherCafe.id}/orders/stream`, otherCafe.owner.token);
    expect(otherUser.response.status, 'the cap is per user').to.equal(200);
    await otherUser.sse.cancel();

    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    for (const { sse } of open) {
      await sse.until((seen) => seen.some((message) => message.data.orderId === order.id));
      await sse.cancel();
    }
  });

  it('when the feed loses its Postgres connection, then open streams end with RECONNECT and a new stream sees changes again', async () => {
    const cafe = await openCafe(the.api);
    const path = `/v1/businesses/${cafe.id}/orders/stream`;
    const { sse } = await openStream(the.stack.baseUrl, path, cafe.owner.token);

    // Only this run's database: other runs on the same server keep their feeds.
    await the.stack.db.raw(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'cafe-flow-order-feed' and datname = current_database()",
    );
    const messages = await sse.toEnd(10_000);
    expect(messages.at(-1)).to.deep.include({ event: 'end', data: { reason: 'RECONNECT' } });

    const again = await eventually(
      () => openStream(the.stack.baseUrl, path, cafe.owner.token),
      ({ response }) => response.status === 200,
    );
    const customer = await registerUser(the.api);
    const order = await placeOrder(the.api, customer, cafe);
    const seen = await again.sse.until((events) => events.some((message) => message.data.orderId === order.id));
    expect(seen.map((message) => message.data.type)).to.include('placed');
    await again.sse.cancel();
  });
});
