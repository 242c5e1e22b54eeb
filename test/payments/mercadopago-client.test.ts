import { expect } from 'chai';
import fc from 'fast-check';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MercadoPagoConfig, Preference } from 'mercadopago';
import {
  createMercadoPagoClient,
  createSdkConfig,
  isMercadoPagoApiError,
  isRetryableMercadoPagoError,
  mercadoPagoAmountToMinor,
  minorToMercadoPagoAmount,
  type CreatePreferenceInput,
  type MercadoPagoApiError,
  type MercadoPagoClient,
} from '../../activities/payments/mercadopago-client';
import type { MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { TOKEN, http, startTestEmulator } from './mercadopago-test-support';

const order = (externalReference: string): CreatePreferenceInput => ({
  externalReference,
  currencyId: 'ARS',
  items: [
    { id: 'latte', title: 'Latte', quantity: 2, unitPriceMinor: 1234 },
    { id: 'medialuna', title: 'Medialuna', quantity: 3, unitPriceMinor: 10 },
  ],
  notificationUrl: 'https://shop.example/webhooks/mercadopago',
  expiresAt: new Date('2999-01-01T00:00:00Z'),
});

async function failureOf(promise: Promise<unknown>): Promise<MercadoPagoApiError> {
  try {
    await promise;
  } catch (error) {
    expect(isMercadoPagoApiError(error), String(error)).to.equal(true);
    return error as MercadoPagoApiError;
  }
  throw new Error('expected the call to fail');
}

describe('MercadoPago client adapter (real SDK against the emulator)', () => {
  let emulator: MercadoPagoEmulator;
  let client: MercadoPagoClient;

  before(async () => {
    emulator = await startTestEmulator({ deliverNotifications: false });
    client = createMercadoPagoClient({ accessToken: TOKEN, apiUrl: emulator.url, timeoutMs: 2000 });
  });
  afterEach(() => emulator.reset());
  after(() => emulator.stop());

  const requestsTo = (pattern: RegExp) => emulator.requests().filter((r) => pattern.test(r.path));
  const payAsBuyer = async (preferenceId: string, status = 'approved') =>
    (await http(emulator, 'POST', `/__emulator/preferences/${preferenceId}/pay`, { body: { status } })).body;

  it('when a preference is created, then the emulator receives exact decimals and our idempotency key', async () => {
    const preference = await client.createPreference(order('order-1'), 'order:1:preference');

    expect(preference.id).to.match(/^\d+-/);
    expect(preference.initPoint).to.equal(`${emulator.url}/checkout/v1/redirect?pref_id=${preference.id}`);
    expect(preference.externalReference).to.equal('order-1');
    expect(preference.expiresAt).to.equal('2999-01-01T00:00:00.000+00:00');
    const [request] = requestsTo(/^\/checkout\/preferences/);
    expect(request?.idempotencyKey).to.equal('order:1:preference');
    expect((request?.body as any).items.map((i: any) => i.unit_price)).to.deep.equal([12.34, 0.1]);
    expect(request?.body).to.deep.include({ expires: true, notification_url: 'https://shop.example/webhooks/mercadopago' });
  });

  it('when a CLP preference is created, then unit prices go out as whole pesos and the payment comes back in pesos', async () => {
    const preference = await client.createPreference(
      {
        externalReference: 'order-clp',
        currencyId: 'CLP',
        items: [{ id: 'cafe', title: 'Café', quantity: 1, unitPriceMinor: 5000 }],
      },
      'order:clp:preference',
    );
    const paid = await payAsBuyer(preference.id);

    const payment = await client.getPayment(paid.id);

    const [request] = requestsTo(/^\/checkout\/preferences/);
    expect((request?.body as any).items).to.deep.equal([
      { id: 'cafe', title: 'Café', quantity: 1, currency_id: 'CLP', unit_price: 5000 },
    ]);
    expect(paid.transaction_amount).to.equal(5000);
    expect(payment).to.deep.include({ amountMinor: 5000, currencyId: 'CLP' });
  });

  it('when a preference is in a currency MercadoPago does not settle for us, then the adapter refuses before calling', async () => {
    const failure = await failureOf(
      client.createPreference({ ...order('order-usd'), currencyId: 'USD' }, 'order:usd:preference'),
    );

    expect(failure).to.include({ kind: 'invalid_request', retryable: false });
    expect(emulator.requests()).to.have.length(0);
  });

  it('when the buyer pays, then the payment is visible through get and search, in minor units', async () => {
    const preference = await client.createPreference(order('order-2'), 'order:2:preference');
    const rejected = await payAsBuyer(preference.id, 'rejected');
    const approved = await payAsBuyer(preference.id, 'approved');

    const payment = await client.getPayment(approved.id);
    const found = await client.searchPaymentsByExternalReference('order-2');

    expect(payment).to.deep.include({
      id: String(approved.id),
      status: 'approved',
      statusDetail: 'accredited',
      amountMinor: 2498,
      refundedMinor: 0,
      currencyId: 'ARS',
    });
    expect(payment.merchantOrderId).to.equal(String(approved.order.id));
    expect(found.map((p) => [p.id, p.status])).to.deep.equal([
      [String(rejected.id), 'rejected'],
      [String(approved.id), 'approved'],
    ]);
    expect(await client.searchPaymentsByExternalReference('nobody')).to.deep.equal([]);
  });

  it('when a create is retried with the same key, then one preference exists; with another body the 409 is not retryable', async () => {
    const first = await client.createPreference(order('order-3'), 'order:3:preference');
    const retried = await client.createPreference(order('order-3'), 'order:3:preference');
    const conflict = await failureOf(client.createPreference(order('order-3-changed'), 'order:3:preference'));

    expect(retried.id).to.equal(first.id);
    expect(requestsTo(/^\/checkout\/preferences/).map((r) => r.idempotentReplay)).to.deep.equal([false, true, false]);
    expect(conflict).to.include({ status: 409, retryable: false, kind: 'http', mpError: 'conflict' });
    expect(isRetryableMercadoPagoError(conflict)).to.equal(false);
  });

  it('when a payment is refunded partially, again with the same key, then fully, then exactly two refunds exist', async () => {
    const preference = await client.createPreference(order('order-4'), 'order:4:preference');
    const paid = await payAsBuyer(preference.id);

    const partial = await client.refundPayment(paid.id, 'order:4:refund:1', { currency: 'ARS', amountMinor: 498 });
    const replayed = await client.refundPayment(paid.id, 'order:4:refund:1', { currency: 'ARS', amountMinor: 498 });
    const rest = await client.refundPayment(paid.id, 'order:4:refund:2', { currency: 'ARS' });
    const payment = await client.getPayment(paid.id);

    expect(partial).to.deep.include({ paymentId: String(paid.id), amountMinor: 498, status: 'approved' });
    expect(replayed.id).to.equal(partial.id);
    expect(rest.amountMinor).to.equal(2000);
    expect(payment).to.deep.include({ status: 'refunded', refundedMinor: 2498 });
    expect(payment.refunds.map((r) => r.amountMinor)).to.deep.equal([498, 2000]);
    const refundBodies = requestsTo(/\/refunds/).map((r) => [r.idempotencyKey, r.body]);
    expect(refundBodies).to.deep.equal([
      ['order:4:refund:1', { amount: 4.98 }],
      ['order:4:refund:1', { amount: 4.98 }],
      ['order:4:refund:2', {}],
    ]);
  });

  it('when the merchant order is read, then payments, preference and amounts come back in minor units', async () => {
    const preference = await client.createPreference(order('order-5'), 'order:5:preference');
    const paid = await payAsBuyer(preference.id);
    await client.refundPayment(paid.id, 'order:5:refund', { currency: 'ARS', amountMinor: 100 });

    const merchantOrder = await client.getMerchantOrder(paid.order.id);

    expect(merchantOrder).to.deep.include({
      id: String(paid.order.id),
      preferenceId: preference.id,
      externalReference: 'order-5',
      orderStatus: 'partially_reverted',
      currencyId: 'ARS',
      totalAmountMinor: 2498,
      paidAmountMinor: 2498,
      refundedAmountMinor: 100,
    });
    expect(merchantOrder.payments).to.deep.equal([
      { id: String(paid.id), status: 'approved', amountMinor: 2498, refundedMinor: 100 },
    ]);
  });

  it('when the token is wrong or the payment unknown, then the error is not retryable and carries the MercadoPago body', async () => {
    const intruder = createMercadoPagoClient({ accessToken: 'APP_USR-wrong', apiUrl: emulator.url, timeoutMs: 2000 });

    const unauthorized = await failureOf(intruder.getPayment(1));
    const missing = await failureOf(client.getPayment(404404));

    expect(unauthorized).to.include({ status: 401, retryable: false, mpError: 'unauthorized' });
    expect(missing).to.include({ status: 404, retryable: false, mpError: 'not_found' });
    expect(missing.message).to.include('Payment not found');
    expect(missing.causes[0]).to.include({ code: 2000 });
  });

  for (const status of [429, 500, 503]) {
    it(`when the API answers ${status}, then the error is retryable and the SDK made exactly one attempt`, async () => {
      await http(emulator, 'POST', '/__emulator/faults/api', { body: { status, times: 5, retryAfterSeconds: 1 } });

      const failure = await failureOf(client.createPreference(order(`order-${status}`), `order:${status}:preference`));

      expect(failure).to.include({ status, retryable: true, kind: 'http' });
      expect(isRetryableMercadoPagoError(failure)).to.equal(true);
      expect(requestsTo(/^\/checkout\/preferences/)).to.have.length(1);
      if (status === 429) expect(failure.retryAfterSeconds).to.equal(1);
    });
  }

  it('when a faulted create is retried with the same key, then exactly one preference is created', async () => {
    await http(emulator, 'POST', '/__emulator/faults/api', { body: { status: 503 } });

    await failureOf(client.createPreference(order('order-6'), 'order:6:preference'));
    const retried = await client.createPreference(order('order-6'), 'order:6:preference');
    const again = await client.createPreference(order('order-6'), 'order:6:preference');

    expect(again.id).to.equal(retried.id);
    expect(requestsTo(/^\/checkout\/preferences/).map((r) => [r.status, r.idempotentReplay])).to.deep.equal([
      [503, false],
      [201, false],
      [201, true],
    ]);
  });

  it('when the API is slower than timeoutMs, then the call fails as a retryable timeout after one attempt', async () => {
    const impatient = createMercadoPagoClient({ accessToken: TOKEN, apiUrl: emulator.url, timeoutMs: 100 });
    await http(emulator, 'POST', '/__emulator/faults/api', { body: { delayMs: 400 } });

    const failure = await failureOf(impatient.getPayment(1));

    expect(failure).to.include({ kind: 'timeout', retryable: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(requestsTo(/^\/v1\/payments/)).to.have.length(1);
  });

  it('when nothing listens at apiUrl, then the call fails as a retryable network error', async () => {
    const unreachable = createMercadoPagoClient({ accessToken: TOKEN, apiUrl: 'http://127.0.0.1:1', timeoutMs: 2000 });

    const failure = await failureOf(unreachable.getPayment(1));

    expect(failure).to.include({ kind: 'network', retryable: true });
  });

  it('when an idempotency key is empty, then the adapter refuses before calling MercadoPago', async () => {
    const failure = await failureOf(client.createPreference(order('order-7'), ''));

    expect(failure).to.include({ kind: 'invalid_request', retryable: false });
    expect(emulator.requests()).to.have.length(0);
  });

  describe('issue #481: per-call options leak into the shared SDK config', () => {
    it('when the raw SDK shares one config, then a create without a key reuses the previous key (the trap)', async () => {
      const shared = new Preference(
        new MercadoPagoConfig({
          accessToken: TOKEN,
          options: createSdkConfig({ accessToken: TOKEN, apiUrl: emulator.url, timeoutMs: 2000 }).options,
        }),
      );
      const body = { items: [{ id: 'x', title: 'Latte', quantity: 1, unit_price: 1 }] };

      await shared.create({ body, requestOptions: { idempotencyKey: 'key-A' } });
      await shared.create({ body: { ...body, external_reference: 'second' } }).catch(() => undefined);

      expect(requestsTo(/^\/checkout\/preferences/).map((r) => r.idempotencyKey)).to.deep.equal(['key-A', 'key-A']);
    });

    it('when the adapter makes consecutive creates, then each reaches the API with its own key and a keyless create gets a fresh one', async () => {
      const configsSeen = spyOnPreferenceConfigs();
      try {
        await client.createPreference(order('order-8a'), 'key-A');
        await client.createPreference(order('order-8b'), 'key-B');
      } finally {
        configsSeen.restore();
      }
      const preference = await client.createPreference(order('order-8c'), 'key-C');
      await payAsBuyer(preference.id);
      const [payment] = await client.searchPaymentsByExternalReference('order-8c');
      await client.refundPayment(payment!.id, 'key-D', { currency: 'ARS', amountMinor: 100 });
      await new Preference(createSdkConfig({ accessToken: TOKEN, apiUrl: emulator.url, timeoutMs: 2000 })).create({
        body: { items: [{ id: 'x', title: 'Keyless', quantity: 1, unit_price: 1 }] },
      });

      const writes = emulator.requests().filter((r) => r.method === 'POST');
      expect(writes.slice(0, 4).map((r) => r.idempotencyKey)).to.deep.equal(['key-A', 'key-B', 'key-C', 'key-D']);
      expect(writes[4]?.idempotencyKey).to.match(/^[0-9a-f-]{36}$/);
      expect(writes.filter((r) => r.idempotentReplay)).to.have.length(0);
      expect(
        emulator
          .requests()
          .filter((r) => r.method === 'GET')
          .every((r) => r.idempotencyKey === undefined),
      ).to.equal(true);
      // The guard itself: no two calls share the MercadoPagoConfig the SDK mutates.
      expect(configsSeen.configs).to.have.length(2);
      expect(configsSeen.configs[0]).to.not.equal(configsSeen.configs[1]);
    });
  });
});

function spyOnPreferenceConfigs(): { configs: unknown[]; restore(): void } {
  const original = Preference.prototype.create;
  const configs: unknown[] = [];
  Preference.prototype.create = function (this: Preference, ...args: Parameters<Preference['create']>) {
    configs.push((this as unknown as { config: unknown }).config);
    return original.apply(this, args);
  };
  return { configs, restore: () => void (Preference.prototype.create = original) };
}

describe('MercadoPago client adapter: base URL redirect', () => {
  it('when apiUrl has a path prefix, then SDK requests reach that host and prefix with the query intact', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.headers.host} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ paging: { total: 0, limit: 100, offset: 0 }, results: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = createMercadoPagoClient({ accessToken: TOKEN, apiUrl: `http://127.0.0.1:${port}/mp/`, timeoutMs: 2000 });
      await client.searchPaymentsByExternalReference('order 9');
    } finally {
      server.close();
    }
    expect(seen).to.deep.equal([
      `GET 127.0.0.1:${port} /mp/v1/payments/search?external_reference=order+9&sort=date_created&criteria=asc&limit=100&offset=0`,
    ]);
  });

  it('when apiUrl is the real API, then no dispatcher is installed and the SDK talks to api.mercadopago.com itself', () => {
    const options = createSdkConfig({ accessToken: TOKEN, apiUrl: 'https://api.mercadopago.com/', timeoutMs: 1000 })
      .options as Record<string, unknown>;

    expect(options).to.not.have.property('dispatcher');
    expect(options).to.include({ maxRetries: 0, timeout: 1000 });
  });
});

describe('MercadoPago client adapter: money', () => {
  it('when minor units become MercadoPago amounts, then each currency takes its own exponent, exactly', () => {
    expect([1234, 5, 10, 0, 100, 199999, 250000].map((minor) => minorToMercadoPagoAmount(minor, 'ARS'))).to.deep.equal([
      12.34, 0.05, 0.1, 0, 1, 1999.99, 2500,
    ]);
    expect([5000, 1, 0].map((minor) => minorToMercadoPagoAmount(minor, 'CLP'))).to.deep.equal([5000, 1, 0]);
    expect(minorToMercadoPagoAmount(15000, 'COP')).to.equal(15000);
    expect(() => minorToMercadoPagoAmount(12.5, 'ARS')).to.throw(/integer of minor units/);
    expect(() => minorToMercadoPagoAmount(100, 'USD')).to.throw(/USD are not supported/);
  });

  it('when MercadoPago amounts come back, then they parse to minor units of the currency, rounding half up', () => {
    expect(mercadoPagoAmountToMinor(12.34, 'ARS')).to.equal(1234);
    expect(mercadoPagoAmountToMinor(0.1 + 0.2, 'ARS')).to.equal(30);
    expect(mercadoPagoAmountToMinor('1.005', 'ARS')).to.equal(101);
    expect(mercadoPagoAmountToMinor(1.005, 'ARS')).to.equal(101);
    expect(mercadoPagoAmountToMinor('2500.00', 'ARS')).to.equal(250000);
    expect(mercadoPagoAmountToMinor(5000, 'CLP')).to.equal(5000);
    expect(mercadoPagoAmountToMinor(undefined, 'ARS')).to.equal(0);
  });

  it('when any amount goes to MercadoPago and back, then it is unchanged in every currency', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.constantFrom('ARS', 'BRL', 'CLP', 'COP', 'MXN', 'PEN', 'UYU'),
        (minor, currency) => mercadoPagoAmountToMinor(minorToMercadoPagoAmount(minor, currency), currency) === minor,
      ),
    );
  });

  it('when an error is not a classified MercadoPago failure, then it is not reported retryable', () => {
    expect(isRetryableMercadoPagoError(new Error('boom'))).to.equal(false);
    expect(isRetryableMercadoPagoError(undefined)).to.equal(false);
  });
});
