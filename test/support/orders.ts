import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { HttpClient } from './http';
import { addProduct, createCafe, registerUser, type TestUser } from './fixtures';
import type { TestStack } from './stack';

export interface Cafe {
  id: string;
  owner: TestUser;
  products: { id: string; priceMinor: number }[];
}

/** A café with an owner and two products on the menu. */
export async function openCafe(api: HttpClient, overrides: Record<string, unknown> = {}): Promise<Cafe> {
  const owner = await registerUser(api, 'Owner');
  const cafe = await createCafe(api, owner, overrides);
  const products = [
    await addProduct(api, owner, cafe.id, { priceMinor: 350 }),
    await addProduct(api, owner, cafe.id, { priceMinor: 1200 }),
  ];
  return { id: cafe.id, owner, products };
}

export async function placeOrder(
  api: HttpClient,
  customer: TestUser,
  cafe: Cafe,
  options: { key?: string; quantity?: number } = {},
) {
  const response = await api.post(
    `/v1/businesses/${cafe.id}/orders`,
    {
      items: [
        { productId: cafe.products[0]!.id, quantity: options.quantity ?? 2 },
        { productId: cafe.products[1]!.id, quantity: 1 },
      ],
    },
    { token: customer.token, headers: { 'idempotency-key': options.key ?? randomUUID() } },
  );
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return response.body as {
    id: string;
    totalMinor: number;
    payment: { preferenceId: string; checkoutUrl: string; deadline: string };
  };
}

/** Acts as the buyer on the emulator's checkout: creates a payment, which notifies our webhook. */
export async function pay(stack: TestStack, preferenceId: string, status: 'approved' | 'rejected' | 'pending' = 'approved') {
  const response = await fetch(`${stack.emulator.url}/__emulator/preferences/${preferenceId}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  expect(response.status).to.equal(201);
  return (await response.json()) as { id: string | number; status: string };
}

export async function emulatorControl(stack: TestStack, path: string, body?: unknown) {
  const response = await fetch(`${stack.emulator.url}/__emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${path}: ${response.status}`).to.be.lessThan(300);
  return response.json() as Promise<any>;
}

/** Polls until `predicate` holds for what `read` returns, or fails with the last value seen. */
export async function eventually<T>(read: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!predicate(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await read();
  }
  return last;
}

export async function orderWithStatus(api: HttpClient, user: TestUser, orderId: string, status: string, timeoutMs?: number) {
  const response = await eventually(
    () => api.get(`/v1/orders/${orderId}`, { token: user.token }),
    (res) => res.status === 200 && res.body.status === status,
    timeoutMs,
  );
  return response.body;
}

export async function act(api: HttpClient, user: TestUser, orderId: string, action: string, body: Record<string, unknown> = {}) {
  return api.post(`/v1/orders/${orderId}/actions/${action}`, body, { token: user.token });
}

export { randomUUID };
