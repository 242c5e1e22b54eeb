import { expect } from 'chai';
import { registerUser } from '../support/fixtures';
import { openCafe, randomUUID } from '../support/orders';
import { useOrderStack } from '../support/use-stack';

describe('placing orders', () => {
  const the = useOrderStack({ name: 'placement', customer: false });

  const body = (quantity = 1) => ({ items: [{ productId: the.cafe.products[0]!.id, quantity }] });
  const place = (token: string, key: string | undefined, payload: unknown = body()) =>
    the.api.post(`/v1/businesses/${the.cafe.id}/orders`, payload, { token, headers: key ? { 'idempotency-key': key } : {} });

  async function workflowsOf(orderId: string): Promise<number> {
    let count = 0;
    for await (const execution of the.stack.client.workflow.list({ query: `WorkflowId = 'order:${the.cafe.id}:${orderId}'` })) {
      if (execution) count += 1;
    }
    return count;
  }

  it('when the same request is sent twice, then the first answers 201, the second 200 with the same order', async () => {
    const customer = await registerUser(the.api);
    const key = randomUUID();
    const first = await place(customer.token, key);
    const second = await place(customer.token, key);
    expect(first.status).to.equal(201);
    expect(second.status).to.equal(200);
    expect(second.body.id).to.equal(first.body.id);
    expect(second.body.payment.preferenceId).to.equal(first.body.payment.preferenceId);
    const rows = await the.stack.db('orders').where({ idempotencyKey: key });
    expect(rows).to.have.length(1);
  });

  it('when 20 identical requests race, then exactly one order, one workflow and one preference exist', async () => {
    const customer = await registerUser(the.api);
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 20 }, () => place(customer.token, key)));
    const statuses = responses.map((response) => response.status);
    expect(
      statuses.every((status) => status === 200 || status === 201),
      JSON.stringify(statuses),
    ).to.equal(true);
    expect(statuses.filter((status) => status === 201)).to.have.length(1);
    expect(new Set(responses.map((response) => response.body.id)).size).to.equal(1);
    const orderId = responses[0]!.body.id as string;
    expect(await the.stack.db('orders').where({ idempotencyKey: key })).to.have.length(1);
    expect(await the.stack.db('orderEvents').where({ orderId })).to.have.length(1);
    expect(await workflowsOf(orderId)).to.equal(1);
    const preferences = the.stack.emulator
      .requests()
      .filter((request) => request.method === 'POST' && request.path.startsWith('/checkout/preferences'));
    const forOrder = preferences.filter(
      (request) => (request.body as { external_reference?: string })?.external_reference === orderId,
    );
    expect(new Set(forOrder.map((request) => request.idempotencyKey))).to.deep.equal(new Set([`preference:${orderId}`]));
  });

  it('when a key is reused with a different body, then it answers 409 and the first order is untouched', async () => {
    const customer = await registerUser(the.api);
    const key = randomUUID();
    const first = await place(customer.token, key, body(1));
    const reused = await place(customer.token, key, body(3));
    expect(reused.status).to.equal(409);
    expect(reused.body.error.code).to.equal('IDEMPOTENCY_KEY_REUSED');
    const order = await the.api.get(`/v1/orders/${first.body.id}`, { token: customer.token });
    expect(order.body.items[0].quantity).to.equal(1);
  });

  it('when two customers use the same key, then each gets an order of their own', async () => {
    const [a, b] = [await registerUser(the.api), await registerUser(the.api)];
    const key = randomUUID();
    const first = await place(a.token, key);
    const second = await place(b.token, key);
    expect(first.status).to.equal(201);
    expect(second.status).to.equal(201);
    expect(first.body.id).to.not.equal(second.body.id);
  });

  it('when prices change after the menu was read, then the order carries the menu price, never a client price', async () => {
    const customer = await registerUser(the.api);
    const response = await place(customer.token, randomUUID(), {
      items: [{ productId: the.cafe.products[1]!.id, quantity: 2, priceMinor: 1 }],
    });
    expect(response.status).to.equal(400);
    const honest = await place(customer.token, randomUUID(), { items: [{ productId: the.cafe.products[1]!.id, quantity: 2 }] });
    expect(honest.body.items[0].unitPriceMinor).to.equal(1200);
    expect(honest.body.totalMinor).to.equal(2400);
    expect(honest.body.currency).to.equal('ARS');
  });

  it('when the same product appears twice, then the lines are merged', async () => {
    const customer = await registerUser(the.api);
    const productId = the.cafe.products[0]!.id;
    const response = await place(customer.token, randomUUID(), {
      items: [
        { productId, quantity: 1 },
        { productId, quantity: 2 },
      ],
    });
    expect(response.status).to.equal(201);
    expect(response.body.items).to.have.length(1);
    expect(response.body.items[0].quantity).to.equal(3);
  });

  it('when the order is empty, absurd, unknown or unavailable, then it is refused with a clear code', async () => {
    const customer = await registerUser(the.api);
    const hidden = await the.api.post(
      `/v1/businesses/${the.cafe.id}/products`,
      { name: 'Seasonal', priceMinor: 500, available: false },
      { token: the.cafe.owner.token },
    );
    const cases: [unknown, number, string][] = [
      [{ items: [] }, 400, 'VALIDATION_FAILED'],
      [{ items: [{ productId: the.cafe.products[0]!.id, quantity: 1000 }] }, 400, 'VALIDATION_FAILED'],
      [{ items: [{ productId: the.cafe.products[0]!.id, quantity: 0 }] }, 400, 'VALIDATION_FAILED'],
      [{ items: [{ productId: the.cafe.products[0]!.id, quantity: 1.5 }] }, 400, 'VALIDATION_FAILED'],
      [{ items: [{ productId: randomUUID(), quantity: 1 }] }, 422, 'UNKNOWN_PRODUCT'],
      [{ items: [{ productId: hidden.body.id, quantity: 1 }] }, 422, 'PRODUCT_UNAVAILABLE'],
    ];
    for (const [payload, status, code] of cases) {
      const response = await place(customer.token, randomUUID(), payload);
      expect(response.status, JSON.stringify(payload)).to.equal(status);
      expect(response.body.error.code).to.equal(code);
    }
  });

  it('when the Idempotency-Key header is missing or malformed, then it answers 400', async () => {
    const customer = await registerUser(the.api);
    for (const key of [undefined, 'short', 'has spaces in it']) {
      const response = await place(customer.token, key);
      expect(response.status, String(key)).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    }
  });

  it("when another café's product is ordered, then it is unknown on this menu", async () => {
    const other = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const response = await place(customer.token, randomUUID(), { items: [{ productId: other.products[0]!.id, quantity: 1 }] });
    expect(response.status).to.equal(422);
    expect(response.body.error.code).to.equal('UNKNOWN_PRODUCT');
  });

  it('when orders are listed by staff, then they come newest first, filtered and paginated by cursor', async () => {
    const own = await openCafe(the.api);
    const customer = await registerUser(the.api);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await the.api.post(
        `/v1/businesses/${own.id}/orders`,
        { items: [{ productId: own.products[0]!.id, quantity: 1 }] },
        { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
      );
      ids.push(response.body.id);
    }
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await the.api.get(`/v1/businesses/${own.id}/orders${query}`, { token: own.owner.token });
      expect(page.status).to.equal(200);
      pages.push(...page.body.data.map((order: { id: string }) => order.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).to.deep.equal([...ids].reverse());
    const filtered = await the.api.get(`/v1/businesses/${own.id}/orders?status=completed`, { token: own.owner.token });
    expect(filtered.body.data).to.have.length(0);
    expect((await the.api.get(`/v1/businesses/${own.id}/orders`, { token: customer.token })).status).to.equal(404);
    expect(
      (await the.api.get(`/v1/businesses/${own.id}/orders?cursor=nonsense`, { token: own.owner.token })).body.error.code,
    ).to.equal('INVALID_CURSOR');
  });
});
