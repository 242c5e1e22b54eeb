import { expect } from 'chai';
import { startStack, type TestStack } from '../support/stack';
import { httpClient, type HttpClient } from '../support/http';
import { registerUser } from '../support/fixtures';
import { act, openCafe, orderWithStatus, pay, placeOrder } from '../support/orders';

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
  let stack: TestStack;
  let api: HttpClient;

  before(async () => {
    stack = await startStack({ name: 'feed' });
    api = httpClient(stack.baseUrl);
  });
  after(() => stack?.stop());

  it("when orders change, then the café's staff see every change in order, and only their café's", async () => {
    const cafe = await openCafe(api);
    const other = await openCafe(api);
    const customer = await registerUser(api);
    const response = await fetch(`${stack.baseUrl}/v1/businesses/${cafe.id}/orders/stream`, {
      headers: { authorization: `Bearer ${cafe.owner.token}` },
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('text/event-stream');

    await placeOrder(api, customer, other);
    const order = await placeOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await act(api, cafe.owner, order.id, 'accept');

    const events = await collect(response, (seen) => seen.some((event) => event.type === 'accept'));
    expect(events.every((event) => event.orderId === order.id)).to.equal(true);
    expect(events.map((event) => `${event.seq}:${event.type}:${event.status}`)).to.deep.equal([
      '1:placed:pending_payment',
      '2:payment_approved:paid',
      '3:accept:preparing',
    ]);
  });

  it('when someone who is not staff subscribes, then it answers 404 and streams nothing', async () => {
    const cafe = await openCafe(api);
    const stranger = await registerUser(api);
    const response = await api.get(`/v1/businesses/${cafe.id}/orders/stream`, { token: stranger.token });
    expect(response.status).to.equal(404);
    expect(response.body.error.code).to.equal('NOT_FOUND');
  });
});
