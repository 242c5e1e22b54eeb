import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { signMercadoPagoWebhook } from '../../scripts/mercadopago-emulator';
import { addMember, addProduct, createCafe, registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { act, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { fetchOpenApi, operationsOf } from './support/openapi';
import { send } from './support/probe';

/**
 * Who may call what: every route of the OpenAPI document against every kind of caller, each
 * answer pinned to one status. Members whose role is too low get 403; anyone with no role in the
 * café gets 404, exactly as for a café that does not exist; no token gets 401.
 */
const ROLES = ['anonymous', 'customer', 'staff', 'manager', 'otherOwner', 'owner'] as const;
type Role = (typeof ROLES)[number];
type Statuses = Record<Role, number>;

interface World {
  stack: TestStack;
  api: HttpClient;
  cafe: Cafe;
  users: Record<Exclude<Role, 'anonymous'>, TestUser>;
}

interface Call {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Row {
  /** `METHOD /path/{param}` as in /openapi.json. */
  operation: string;
  variant?: string;
  expected: Statuses;
  /** Builds the call, once per caller: anything the call changes or uses up is made fresh for each. */
  call: (world: World) => Promise<Call>;
  /** Error codes where they differ from CODES. */
  codes?: Record<number, string>;
}

/** What each refusal says: the same code whichever route refuses. */
const CODES: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

/** A fresh order of the world's customer, walked to `status` the way it happens for real. */
async function orderIn(world: World, status: 'pending_payment' | 'paid' | 'preparing' | 'ready'): Promise<string> {
  const { api, stack, cafe, users } = world;
  const order = await placeOrder(api, users.customer, cafe);
  if (status === 'pending_payment') return order.id;
  await pay(stack, order.payment.preferenceId);
  await orderWithStatus(api, users.customer, order.id, 'paid');
  if (status === 'paid') return order.id;
  const accepted = await act(api, users.staff, order.id, 'accept');
  expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
  if (status === 'preparing') return order.id;
  const ready = await act(api, users.staff, order.id, 'ready');
  expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
  return order.id;
}

async function freshStaffMember(world: World): Promise<TestUser> {
  const member = await registerUser(world.api, 'Barista');
  await addMember(world.api, world.users.owner, world.cafe.id, member, 'staff');
  return member;
}

/** A staff invitation from the owner; inviting the same address again replaces the last one. */
async function freshInvitation(world: World, email: string): Promise<{ id: string; token: string }> {
  const res = await world.api.post(
    `/v1/businesses/${world.cafe.id}/invitations`,
    { email, role: 'staff' },
    { token: world.users.owner.token },
  );
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; token: string };
}

const freshProduct = (world: World) => addProduct(world.api, world.users.owner, world.cafe.id, { priceMinor: 500 });

const session = (world: World) =>
  world.api.post('/v1/auth/login', { email: world.users.owner.email, password: world.users.owner.password }).then((res) => {
    expect(res.status).to.equal(200);
    return res.body.refreshToken as string;
  });

/** A notification MercadoPago could send; unknown topics are answered "ignored" without starting anything. */
function webhook(world: World, signed: boolean): Call {
  const dataId = String(Date.now());
  const requestId = randomUUID();
  const secret = world.stack.emulator.webhookSecret;
  return {
    path: `/v1/webhooks/mercadopago?data.id=${dataId}&type=subscription_preapproval`,
    body: { id: Date.now(), type: 'subscription_preapproval', data: { id: dataId } },
    headers: {
      'x-request-id': requestId,
      ...(signed ? { 'x-signature': signMercadoPagoWebhook({ secret, dataId, requestId }) } : {}),
    },
  };
}

// prettier-ignore
const TABLE: Row[] = [
  { operation: 'GET /health', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/health' }) },
  { operation: 'GET /ready', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/ready' }) },
  { operation: 'GET /openapi.json', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/openapi.json' }) },
  { operation: 'GET /docs', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/docs' }) },

  { operation: 'POST /v1/auth/register', expected: { anonymous: 201, customer: 201, staff: 201, manager: 201, otherOwner: 201, owner: 201 },
    call: async () => ({ path: '/v1/auth/register', body: { email: `m-${randomUUID()}@example.test`, password: 'long enough password', name: 'New' } }) },
  { operation: 'POST /v1/auth/login', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async (w) => ({ path: '/v1/auth/login', body: { email: w.users.owner.email, password: w.users.owner.password } }) },
  { operation: 'POST /v1/auth/refresh', expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async (w) => ({ path: '/v1/auth/refresh', body: { refreshToken: await session(w) } }) },
  { operation: 'POST /v1/auth/logout', expected: { anonymous: 204, customer: 204, staff: 204, manager: 204, otherOwner: 204, owner: 204 },
    call: async (w) => ({ path: '/v1/auth/logout', body: { refreshToken: await session(w) } }) },
  { operation: 'GET /v1/me', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/v1/me' }) },
  { operation: 'GET /v1/me/preferences', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/v1/me/preferences' }) },
  { operation: 'PATCH /v1/me/preferences', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/v1/me/preferences', body: { orderUpdatesEmails: true } }) },

  { operation: 'POST /v1/businesses', expected: { anonymous: 401, customer: 201, staff: 201, manager: 201, otherOwner: 201, owner: 201 },
    call: async () => ({ path: '/v1/businesses', body: { name: 'Another café', currency: 'ARS', timeZone: 'UTC' } }) },
  { operation: 'GET /v1/businesses', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/v1/businesses' }) },
  { operation: 'GET /v1/businesses/{businessId}', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}` }) },
  { operation: 'PATCH /v1/businesses/{businessId}', expected: { anonymous: 401, customer: 404, staff: 403, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}`, body: { name: `Renamed ${randomUUID().slice(0, 4)}` } }) },
  { operation: 'GET /v1/businesses/{businessId}/members', expected: { anonymous: 401, customer: 404, staff: 403, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/members` }) },
  { operation: 'POST /v1/businesses/{businessId}/invitations', variant: 'inviting staff',
    expected: { anonymous: 401, customer: 404, staff: 403, manager: 201, otherOwner: 404, owner: 201 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/invitations`, body: { email: `i-${randomUUID()}@example.test`, role: 'staff' } }) },
  { operation: 'POST /v1/businesses/{businessId}/invitations', variant: 'inviting a manager',
    expected: { anonymous: 401, customer: 404, staff: 403, manager: 403, otherOwner: 404, owner: 201 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/invitations`, body: { email: `i-${randomUUID()}@example.test`, role: 'manager' } }) },
  { operation: 'GET /v1/businesses/{businessId}/invitations', expected: { anonymous: 401, customer: 404, staff: 403, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/invitations` }) },
  { operation: 'DELETE /v1/businesses/{businessId}/invitations/{invitationId}', variant: 'a staff invitation',
    expected: { anonymous: 401, customer: 404, staff: 403, manager: 204, otherOwner: 404, owner: 204 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/invitations/${(await freshInvitation(w, `i-${randomUUID()}@example.test`)).id}` }) },
  { operation: 'GET /v1/invitations', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async () => ({ path: '/v1/invitations' }) },
  { operation: 'POST /v1/invitations/accept', variant: "the customer's invitation",
    expected: { anonymous: 401, customer: 200, staff: 403, manager: 403, otherOwner: 403, owner: 403 },
    call: async (w) => ({ path: '/v1/invitations/accept', body: { token: (await freshInvitation(w, w.users.customer.email)).token } }),
    codes: { 403: 'INVITATION_FOR_ANOTHER_ACCOUNT' } },
  { operation: 'DELETE /v1/businesses/{businessId}/members/{userId}', expected: { anonymous: 401, customer: 404, staff: 403, manager: 403, otherOwner: 404, owner: 204 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/members/${(await freshStaffMember(w)).id}` }) },

  { operation: 'POST /v1/businesses/{businessId}/products', expected: { anonymous: 401, customer: 404, staff: 403, manager: 201, otherOwner: 404, owner: 201 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/products`, body: { name: 'Medialuna', priceMinor: 150 } }) },
  { operation: 'GET /v1/businesses/{businessId}/products', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/products` }) },
  { operation: 'PATCH /v1/businesses/{businessId}/products/{productId}', expected: { anonymous: 401, customer: 404, staff: 403, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/products/${(await freshProduct(w)).id}`, body: { priceMinor: 990 } }) },
  { operation: 'DELETE /v1/businesses/{businessId}/products/{productId}', expected: { anonymous: 401, customer: 404, staff: 403, manager: 204, otherOwner: 404, owner: 204 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/products/${(await freshProduct(w)).id}` }) },

  { operation: 'POST /v1/businesses/{businessId}/orders', expected: { anonymous: 401, customer: 201, staff: 201, manager: 201, otherOwner: 201, owner: 201 },
    call: async (w) => ({
      path: `/v1/businesses/${w.cafe.id}/orders`,
      body: { items: [{ productId: w.cafe.products[0]!.id, quantity: 1 }] },
      headers: { 'idempotency-key': randomUUID() },
    }) },
  { operation: 'GET /v1/businesses/{businessId}/orders', expected: { anonymous: 401, customer: 404, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/orders` }) },
  { operation: 'GET /v1/orders/{orderId}', expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'pending_payment')}` }) },
  { operation: 'POST /v1/orders/{orderId}/actions/{action}', variant: 'cancel a pending order',
    expected: { anonymous: 401, customer: 200, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'pending_payment')}/actions/cancel`, body: {} }) },
  { operation: 'POST /v1/orders/{orderId}/actions/{action}', variant: 'accept a paid order',
    expected: { anonymous: 401, customer: 403, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'paid')}/actions/accept`, body: {} }) },
  { operation: 'POST /v1/orders/{orderId}/actions/{action}', variant: 'mark a preparing order ready',
    expected: { anonymous: 401, customer: 403, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'preparing')}/actions/ready`, body: {} }) },
  { operation: 'POST /v1/orders/{orderId}/actions/{action}', variant: 'complete a ready order',
    expected: { anonymous: 401, customer: 403, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'ready')}/actions/complete`, body: {} }) },
  { operation: 'GET /v1/businesses/{businessId}/orders/stream', expected: { anonymous: 401, customer: 404, staff: 200, manager: 200, otherOwner: 404, owner: 200 },
    call: async (w) => ({ path: `/v1/businesses/${w.cafe.id}/orders/stream` }) },
  { operation: 'GET /v1/orders/{orderId}/stream', expected: { anonymous: 401, customer: 200, staff: 404, manager: 404, otherOwner: 404, owner: 404 },
    call: async (w) => ({ path: `/v1/orders/${await orderIn(w, 'pending_payment')}/stream` }) },

  { operation: 'POST /v1/webhooks/mercadopago', variant: 'signed by MercadoPago',
    expected: { anonymous: 200, customer: 200, staff: 200, manager: 200, otherOwner: 200, owner: 200 },
    call: async (w) => webhook(w, true) },
  { operation: 'POST /v1/webhooks/mercadopago', variant: 'not signed, whatever token comes with it',
    expected: { anonymous: 401, customer: 401, staff: 401, manager: 401, otherOwner: 401, owner: 401 },
    call: async (w) => webhook(w, false), codes: { 401: 'MISSING_SIGNATURE' } },
];

/** Served outside the OpenAPI document: the document itself and its viewer. */
const UNDOCUMENTED = ['GET /openapi.json', 'GET /docs'];

describe('security: route × role matrix', () => {
  let stack: TestStack;
  let api: HttpClient;
  let ip: string;

  before(async () => {
    stack = await startStack({ name: 'matrix', env: { RATE_LIMIT_PER_MINUTE: '100000', TRUST_PROXY: 'true' } });
  });
  // Login locks are per address, and the database is shared with the rest of the run: an address of our own.
  beforeEach(() => {
    ip = uniqueClientIp();
    api = httpClient(stack.baseUrl, { 'x-forwarded-for': ip });
  });
  after(() => stack?.stop());

  /** A café with an owner, a manager, a staff member and two products; a customer; the owner of another café. */
  async function buildWorld(): Promise<World> {
    const [owner, manager, staff, customer, otherOwner] = await Promise.all(
      ['Owner', 'Manager', 'Staff', 'Customer', 'Other owner'].map((name) => registerUser(api, name)),
    );
    const cafe = await createCafe(api, owner!);
    await createCafe(api, otherOwner!, { name: 'The café next door' });
    await addMember(api, owner!, cafe.id, manager!, 'manager');
    await addMember(api, owner!, cafe.id, staff!, 'staff');
    const products = [
      await addProduct(api, owner!, cafe.id, { priceMinor: 400 }),
      await addProduct(api, owner!, cafe.id, { priceMinor: 1100 }),
    ];
    return {
      stack,
      api,
      cafe: { id: cafe.id, owner: owner!, products },
      users: { owner: owner!, manager: manager!, staff: staff!, customer: customer!, otherOwner: otherOwner! },
    };
  }

  it('when the table is compared with /openapi.json, then every documented operation has a row and every row a route', async () => {
    const documented = operationsOf(await fetchOpenApi(stack.baseUrl)).map((op) => `${op.method} ${op.path}`);
    const covered = new Set(TABLE.map((row) => row.operation));

    expect(
      documented.filter((operation) => !covered.has(operation)),
      'documented routes missing from the table',
    ).to.deep.equal([]);
    expect(
      [...covered].filter((operation) => !documented.includes(operation) && !UNDOCUMENTED.includes(operation)),
      'rows for routes that do not exist',
    ).to.deep.equal([]);
  });

  for (const row of TABLE) {
    const summary = ROLES.map((role) => `${role} ${row.expected[role]}`).join(', ');
    it(`when every kind of caller tries ${row.operation}${row.variant ? ` (${row.variant})` : ''}, then ${summary}`, async () => {
      const world = await buildWorld();
      const [method] = row.operation.split(' ') as [string];
      const actual = {} as Statuses;
      const answers: string[] = [];

      for (const role of ROLES) {
        const call = await row.call(world);
        const headers: Record<string, string> = { 'x-forwarded-for': ip, ...call.headers };
        if (role !== 'anonymous') headers.authorization = `Bearer ${world.users[role].token}`;
        if (call.body !== undefined) headers['content-type'] = 'application/json';
        const res = await send(stack.baseUrl, {
          method,
          path: call.path,
          headers,
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
        });
        actual[role] = res.status;
        answers.push(`${role}: ${res.status} ${res.text.slice(0, 200)}`);
        const code = { ...CODES, ...row.codes }[res.status];
        if (code) expect((res.json as { error?: { code?: string } }).error?.code, `${role}: ${res.text}`).to.equal(code);
        if (row.operation.endsWith('/stream') && res.status === 200) {
          expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
        }
      }

      expect(actual, answers.join('\n')).to.deep.equal(row.expected);
    });
  }
});
