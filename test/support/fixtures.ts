import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { HttpClient } from './http';

/** Builders that go through the public API, as a client app would. */
export async function registerUser(api: HttpClient, name = 'Test User') {
  const email = `user-${randomUUID()}@example.test`;
  const password = `pw-${randomUUID()}`;
  const response = await api.post('/v1/auth/register', { email, password, name });
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return {
    email,
    password,
    token: response.body.accessToken as string,
    refreshToken: response.body.refreshToken as string,
    id: response.body.user.id as string,
  };
}

export type TestUser = Awaited<ReturnType<typeof registerUser>>;

export async function createCafe(api: HttpClient, owner: TestUser, overrides: Record<string, unknown> = {}) {
  const response = await api.post(
    '/v1/businesses',
    { name: 'Café Test', currency: 'ARS', timeZone: 'America/Argentina/Buenos_Aires', ...overrides },
    { token: owner.token },
  );
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return response.body as { id: string; currency: string };
}

export async function addProduct(api: HttpClient, owner: TestUser, businessId: string, overrides: Record<string, unknown> = {}) {
  const response = await api.post(
    `/v1/businesses/${businessId}/products`,
    { name: `Cortado ${randomUUID().slice(0, 6)}`, priceMinor: 250_00, ...overrides },
    { token: owner.token },
  );
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return response.body as { id: string; priceMinor: number };
}

export async function addMember(
  api: HttpClient,
  owner: TestUser,
  businessId: string,
  member: TestUser,
  role: 'manager' | 'staff',
) {
  const invited = await api.post(
    `/v1/businesses/${businessId}/invitations`,
    { email: member.email, role },
    { token: owner.token },
  );
  expect(invited.status, JSON.stringify(invited.body)).to.equal(201);
  const accepted = await api.post('/v1/invitations/accept', { token: invited.body.token }, { token: member.token });
  expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
}

export type Role = 'owner' | 'manager' | 'staff' | 'customer';

/** A café with one person in each role; `customer` is signed in but has no role in it. */
export async function cafeWithCast(api: HttpClient) {
  const [owner, manager, staff, customer] = await Promise.all([
    registerUser(api, 'Owner'),
    registerUser(api, 'Manager'),
    registerUser(api, 'Staff'),
    registerUser(api, 'Customer'),
  ]);
  const cafe = await createCafe(api, owner);
  await addMember(api, owner, cafe.id, manager, 'manager');
  await addMember(api, owner, cafe.id, staff, 'staff');
  return { cafe, cast: { owner, manager, staff, customer } as Record<Role, TestUser> };
}
