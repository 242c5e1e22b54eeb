import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { EncryptionCodec, METADATA_KEY_ID, type PayloadKey } from '../../lib/payload-codec';
import { orderWorkflowId } from '../../workflows/orders/contracts';
import { registerUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { act, openCafe, orderWithStatus, pay, type Cafe } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import type { TestUser } from '../support/fixtures';
import { decodedText, historyPayloads, rawText } from './payload-codec-history';

const newKey = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const spec = (...keys: PayloadKey[]) => keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');
const keyIds = (payloads: ReturnType<typeof historyPayloads>) =>
  [...new Set(payloads.map((payload) => Buffer.from(payload.metadata?.[METADATA_KEY_ID] ?? []).toString()))].sort();

/** An order with data only its customer should see, placed through the API. */
async function placeMarkedOrder(api: HttpClient, customer: TestUser, cafe: Cafe) {
  const marks = { pickupName: `Pickup ${randomUUID()}`, notes: `notes ${randomUUID()}` };
  const response = await api.post(
    `/v1/businesses/${cafe.id}/orders`,
    { items: [{ productId: cafe.products[0]!.id, quantity: 1 }], ...marks },
    { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
  );
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  const order = response.body as { id: string; payment: { preferenceId: string } };
  return { ...order, ...marks, workflowId: orderWorkflowId(cafe.id, order.id) };
}

describe('customer data in Temporal history', () => {
  const k1 = newKey('2026-11');
  let stack: TestStack;
  let api: HttpClient;

  before(async function () {
    this.timeout(120_000);
    stack = await startStack({ name: 'codec-history', env: { TEMPORAL_PAYLOAD_KEYS: spec(k1) } });
    api = httpClient(stack.baseUrl);
  });
  after(async () => {
    await stack?.stop();
  });

  it('when an order is placed, paid, accepted and completed through the API, then its raw history holds no pickup name, notes or user id in clear', async function () {
    this.timeout(90_000);
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const order = await placeMarkedOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    for (const action of ['accept', 'ready', 'complete'])
      expect((await act(api, cafe.owner, order.id, action)).status).to.equal(200);
    await orderWithStatus(api, customer, order.id, 'completed');

    // env.client has no codec: the history as the server stores it, and as its database backups hold it.
    const history = await stack.env.client.workflow.getHandle(order.workflowId).fetchHistory();

    const raw = rawText(history);
    for (const secret of [order.pickupName, order.notes, customer.id, cafe.owner.id, customer.email]) {
      expect(raw, secret).not.to.include(secret);
    }
    const payloads = historyPayloads(history);
    expect(payloads.length).to.be.greaterThan(5);
    expect(keyIds(payloads), 'every payload is encrypted with the configured key').to.deep.equal(['2026-11']);
    const decoded = await decodedText(history, new EncryptionCodec([k1]));
    for (const secret of [order.pickupName, order.notes, customer.id, cafe.owner.id]) expect(decoded, secret).to.include(secret);
  });

  it('when the keys are rotated while an order is open, then a worker with the new key first finishes it and the old key still decodes its start', async function () {
    this.timeout(120_000);
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Customer');
    const order = await placeMarkedOrder(api, customer, cafe);
    const reason = `rotated ${randomUUID()}`;
    await stack.worker.stop();
    const k2 = newKey('2026-12');
    const rotated = await startStack({
      name: 'codec-rotated',
      env: { TEMPORAL_PAYLOAD_KEYS: spec(k2, k1), TEMPORAL_TASK_QUEUE: stack.taskQueue },
    });
    try {
      const rotatedApi = httpClient(rotated.baseUrl);
      expect((await act(rotatedApi, customer, order.id, 'cancel', { reason })).status).to.equal(200);
      await orderWithStatus(rotatedApi, customer, order.id, 'cancelled');

      const history = await stack.env.client.workflow.getHandle(order.workflowId).fetchHistory();

      expect(keyIds(historyPayloads(history))).to.deep.equal(['2026-11', '2026-12']);
      expect(rawText(history)).not.to.include(reason);
      const decoded = await decodedText(history, new EncryptionCodec([k2, k1]));
      expect(decoded).to.include(order.pickupName);
      expect(decoded).to.include(reason);
      let withoutOld: Error | undefined;
      await decodedText(history, new EncryptionCodec([k2])).catch((error: Error) => (withoutOld = error));
      expect(withoutOld?.message).to.equal('payload encrypted with key "2026-11", which is not in TEMPORAL_PAYLOAD_KEYS');
    } finally {
      await rotated.stop();
      await stack.restartWorker();
    }
  });
});
