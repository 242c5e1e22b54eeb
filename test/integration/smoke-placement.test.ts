import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startStack, type TestStack } from '../support/stack';
import { httpClient, type HttpClient } from '../support/http';
import { addProduct, createCafe, registerUser } from '../support/fixtures';

describe('placement smoke', () => {
  let stack: TestStack;
  let api: HttpClient;
  before(async () => {
    stack = await startStack({ name: 'smoke' });
    api = httpClient(stack.baseUrl);
  });
  after(() => stack?.stop());

  it('when a customer orders, then the order is pending payment with a checkout', async () => {
    const owner = await registerUser(api);
    const cafe = await createCafe(api, owner);
    const product = await addProduct(api, owner, cafe.id);
    const customer = await registerUser(api);
    const res = await api.post(
      `/v1/businesses/${cafe.id}/orders`,
      { items: [{ productId: product.id, quantity: 2 }] },
      { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
    );
    console.log(res.status, JSON.stringify(res.body));
    expect(res.status).to.equal(201);
  });
});
