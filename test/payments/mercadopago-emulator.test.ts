import { expect } from 'chai';
import { WebhookSignatureValidator } from 'mercadopago';
import type { MercadoPagoEmulator } from '../../scripts/mercadopago-emulator';
import { signMercadoPagoWebhook } from '../../scripts/mercadopago-emulator/signing';
import {
  PREFERENCE_TOTAL,
  TOKEN,
  SECRET,
  createPaidPreference,
  http,
  preferenceBody,
  startTestEmulator,
} from './mercadopago-test-support';

describe('MercadoPago emulator: REST contract', () => {
  let emulator: MercadoPagoEmulator;

  before(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator.reset());
  after(() => emulator.stop());

  it('when the access token is missing or wrong, then it answers 401 with MercadoPago error body', async () => {
    const missing = await http(emulator, 'GET', '/v1/payments/1');
    const wrong = await http(emulator, 'GET', '/v1/payments/1', { token: 'APP_USR-wrong' });

    expect(missing.status).to.equal(401);
    expect(missing.body).to.include({ error: 'unauthorized', status: 401, message: 'Must provide your access_token to proceed' });
    expect(missing.body.cause[0]).to.include({ code: 5 });
    expect(wrong.status).to.equal(401);
    expect(wrong.body).to.include({ error: 'unauthorized', status: 401 });
    expect(wrong.body.cause).to.be.an('array');
  });

  it('when a preference is created, then it echoes the order and init_point serves a checkout with the exact total', async () => {
    const created = await http(emulator, 'POST', '/checkout/preferences/', {
      token: TOKEN,
      body: {
        ...preferenceBody('order-pref', 'https://shop.example/hook'),
        expires: true,
        expiration_date_to: '2999-01-01T00:00:00.000-03:00',
      },
    });

    expect(created.status).to.equal(201);
    expect(created.body.id).to.match(/^\d+-[0-9a-f-]{36}$/);
    expect(created.body).to.include({
      external_reference: 'order-pref',
      notification_url: 'https://shop.example/hook',
      expires: true,
      expiration_date_to: '2999-01-01T00:00:00.000-03:00',
    });
    expect(created.body.items[0]).to.include({ title: 'Latte', quantity: 2, unit_price: 12.34, currency_id: 'ARS' });
    expect(created.body.date_created).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-04:00$/);
    expect(created.body.init_point).to.equal(`${emulator.url}/checkout/v1/redirect?pref_id=${created.body.id}`);
    expect(created.body.sandbox_init_point).to.equal(created.body.init_point);

    const page = await fetch(created.body.init_point);
    const html = await page.text();
    expect(html).to.include('Total: 24.98 ARS').and.include('Approve').and.include('Reject').and.include('Pending');
  });

  it('when the items are invalid or carry float noise, then it answers 400 instead of rounding', async () => {
    const noise = await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: { items: [{ title: 'Latte', quantity: 1, unit_price: 0.1 + 0.2 }] },
    });
    const empty = await http(emulator, 'POST', '/checkout/preferences', { token: TOKEN, body: { items: [] } });

    expect(noise.status).to.equal(400);
    expect(noise.body).to.include({ error: 'bad_request', status: 400 });
    expect(empty.status).to.equal(400);
  });

  it('when a CLP preference is paid and partly refunded, then every amount is whole pesos, as MercadoPago sends them', async () => {
    const created = await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: { external_reference: 'order-clp', items: [{ title: 'Café', quantity: 1, unit_price: 5000, currency_id: 'CLP' }] },
    });
    const paid = await http(emulator, 'POST', `/__emulator/preferences/${created.body.id}/pay`, { body: { status: 'approved' } });
    const refund = await http(emulator, 'POST', `/v1/payments/${paid.body.id}/refunds`, { token: TOKEN, body: { amount: 1500 } });
    const payment = await http(emulator, 'GET', `/v1/payments/${paid.body.id}`, { token: TOKEN });
    const page = await (await fetch(created.body.init_point)).text();

    expect(created.status).to.equal(201);
    expect(created.body.items[0]).to.include({ unit_price: 5000, currency_id: 'CLP' });
    expect(created.body.total_amount).to.equal(5000);
    expect(refund.body.amount).to.equal(1500);
    expect(payment.body).to.include({
      currency_id: 'CLP',
      transaction_amount: 5000,
      transaction_amount_refunded: 1500,
      status: 'approved',
    });
    expect(page).to.include('Total: 5000 CLP');
  });

  it('when amounts do not fit the currency, or the currency is not one MercadoPago settles for us, then 400', async () => {
    const create = (item: Record<string, unknown>) =>
      http(emulator, 'POST', '/checkout/preferences', {
        token: TOKEN,
        body: { items: [{ title: 'Café', quantity: 1, ...item }] },
      });

    const pesoCents = await create({ unit_price: 5000.5, currency_id: 'CLP' });
    const dollars = await create({ unit_price: 10, currency_id: 'USD' });
    const mixed = await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: {
        items: [
          { title: 'Café', quantity: 1, unit_price: 5000, currency_id: 'CLP' },
          { title: 'Latte', quantity: 1, unit_price: 12.34, currency_id: 'ARS' },
        ],
      },
    });

    expect([pesoCents.status, dollars.status, mixed.status]).to.deep.equal([400, 400, 400]);
    expect(pesoCents.body.message).to.include('unit_price invalid for CLP');
    expect(dollars.body.message).to.include('currency_id invalid');
  });

  it('when the buyer approves on the checkout page, then it returns to back_urls.success with MercadoPago return params', async () => {
    const created = await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: {
        ...preferenceBody('order-page'),
        back_urls: { success: 'https://shop.example/ok', failure: 'https://shop.example/ko' },
      },
    });

    const response = await fetch(`${emulator.url}/checkout/v1/redirect/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pref_id: created.body.id, status: 'approved' }).toString(),
      redirect: 'manual',
    });

    expect(response.status).to.equal(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.origin + location.pathname).to.equal('https://shop.example/ok');
    expect(location.searchParams.get('status')).to.equal('approved');
    expect(location.searchParams.get('external_reference')).to.equal('order-page');
    expect(location.searchParams.get('preference_id')).to.equal(created.body.id);
    const payment = await http(emulator, 'GET', `/v1/payments/${location.searchParams.get('payment_id')}`, { token: TOKEN });
    expect(payment.body).to.include({
      status: 'approved',
      external_reference: 'order-page',
      transaction_amount: PREFERENCE_TOTAL,
    });
  });

  it('when a POST repeats an idempotency key, then the same body replays the response and a different body is a 409', async () => {
    const body = preferenceBody('order-idem');
    const first = await http(emulator, 'POST', '/checkout/preferences', { token: TOKEN, body, idempotencyKey: 'key-1' });
    const reordered = { items: body.items, external_reference: body.external_reference };
    const replay = await http(emulator, 'POST', '/checkout/preferences/', {
      token: TOKEN,
      body: reordered,
      idempotencyKey: 'key-1',
    });
    const conflict = await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: preferenceBody('another-order'),
      idempotencyKey: 'key-1',
    });

    expect(replay.status).to.equal(201);
    expect(replay.body.id).to.equal(first.body.id);
    expect(conflict.status).to.equal(409);
    expect(conflict.body).to.include({ status: 409, error: 'conflict' });
    const log = emulator.requests().filter((r) => r.path.startsWith('/checkout/preferences'));
    expect(log.map((r) => [r.idempotencyKey, r.status, r.idempotentReplay])).to.deep.equal([
      ['key-1', 201, false],
      ['key-1', 201, true],
      ['key-1', 409, false],
    ]);
  });

  it('when payments are searched, then it filters by external_reference and status and pages with sort and criteria', async () => {
    const a = await createPaidPreference(emulator, 'order-search', { status: 'rejected' });
    const b = await http(emulator, 'POST', `/__emulator/preferences/${a.preference.id}/pay`, { body: { status: 'approved' } });
    await createPaidPreference(emulator, 'someone-else');

    const all = await http(
      emulator,
      'GET',
      '/v1/payments/search?external_reference=order-search&sort=date_created&criteria=asc',
      { token: TOKEN },
    );
    const approved = await http(emulator, 'GET', '/v1/payments/search?external_reference=order-search&status=approved', {
      token: TOKEN,
    });
    const page2 = await http(
      emulator,
      'GET',
      '/v1/payments/search?external_reference=order-search&criteria=desc&limit=1&offset=1',
      { token: TOKEN },
    );
    const badSort = await http(emulator, 'GET', '/v1/payments/search?sort=amount', { token: TOKEN });

    expect(all.body.paging).to.deep.equal({ total: 2, limit: 30, offset: 0 });
    expect(all.body.results.map((p: any) => p.id)).to.deep.equal([a.payment.id, b.body.id]);
    expect(approved.body.results.map((p: any) => p.id)).to.deep.equal([b.body.id]);
    expect(page2.body.paging).to.deep.equal({ total: 2, limit: 1, offset: 1 });
    expect(page2.body.results.map((p: any) => p.id)).to.deep.equal([a.payment.id]);
    expect(badSort.status).to.equal(400);
    expect(badSort.body.cause[0]).to.include({ code: 1003 });
  });

  it('when a payment is refunded partially then fully, then status, refunds and transaction_amount_refunded follow', async () => {
    const { payment } = await createPaidPreference(emulator, 'order-refund');
    const path = `/v1/payments/${payment.id}/refunds`;

    const partial = await http(emulator, 'POST', path, { token: TOKEN, body: { amount: 4.98 }, idempotencyKey: 'r-1' });
    const afterPartial = await http(emulator, 'GET', `/v1/payments/${payment.id}`, { token: TOKEN });
    const tooMuch = await http(emulator, 'POST', path, { token: TOKEN, body: { amount: 20.01 }, idempotencyKey: 'r-2' });
    const rest = await http(emulator, 'POST', path, { token: TOKEN, body: {}, idempotencyKey: 'r-3' });
    const afterFull = await http(emulator, 'GET', `/v1/payments/${payment.id}`, { token: TOKEN });
    const listed = await http(emulator, 'GET', `${path}/`, { token: TOKEN });

    expect(partial.status).to.equal(201);
    expect(partial.body).to.include({ payment_id: payment.id, amount: 4.98, status: 'approved' });
    expect(afterPartial.body).to.include({
      status: 'approved',
      status_detail: 'partially_refunded',
      transaction_amount_refunded: 4.98,
    });
    expect(tooMuch.status).to.equal(400);
    expect(rest.body.amount).to.equal(20);
    expect(afterFull.body).to.include({
      status: 'refunded',
      status_detail: 'refunded',
      transaction_amount_refunded: PREFERENCE_TOTAL,
    });
    expect(afterFull.body.refunds.map((r: any) => r.amount)).to.deep.equal([4.98, 20]);
    expect(listed.body.map((r: any) => r.id)).to.deep.equal([partial.body.id, rest.body.id]);
  });

  it('when a payment is not approved, then a refund is refused with 400 and an unknown payment is 404', async () => {
    const { payment } = await createPaidPreference(emulator, 'order-pending', { status: 'pending' });

    const refused = await http(emulator, 'POST', `/v1/payments/${payment.id}/refunds`, { token: TOKEN, body: {} });
    const missing = await http(emulator, 'GET', '/v1/payments/999', { token: TOKEN });

    expect(refused.status).to.equal(400);
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.include({ message: 'Payment not found', error: 'not_found', status: 404 });
    expect(missing.body.cause[0]).to.include({ code: 2000 });
  });

  it('when the merchant order is read, then it lists the payments and its order_status follows payments and refunds', async () => {
    const { preference, payment } = await createPaidPreference(emulator, 'order-mo', { status: 'rejected' });
    const orderId = payment.order.id;
    const unpaid = await http(emulator, 'GET', `/merchant_orders/${orderId}`, { token: TOKEN });
    const approved = await http(emulator, 'POST', `/__emulator/preferences/${preference.id}/pay`, {
      body: { status: 'approved' },
    });
    const paid = await http(emulator, 'GET', `/merchant_orders/${orderId}`, { token: TOKEN });
    await http(emulator, 'POST', `/v1/payments/${approved.body.id}/refunds`, { token: TOKEN, body: { amount: 1 } });
    const partlyReverted = await http(emulator, 'GET', `/merchant_orders/${orderId}`, { token: TOKEN });

    expect(approved.body.order.id).to.equal(orderId);
    expect(unpaid.body).to.include({
      order_status: 'payment_required',
      status: 'opened',
      preference_id: preference.id,
      external_reference: 'order-mo',
    });
    expect(paid.body).to.include({
      order_status: 'paid',
      status: 'closed',
      paid_amount: PREFERENCE_TOTAL,
      total_amount: PREFERENCE_TOTAL,
    });
    expect(paid.body.payments.map((p: any) => [p.id, p.status])).to.deep.equal([
      [payment.id, 'rejected'],
      [approved.body.id, 'approved'],
    ]);
    expect(partlyReverted.body).to.include({ order_status: 'partially_reverted', refunded_amount: 1 });
  });

  it('when API faults are injected, then the next calls or matching paths answer 429/500 and reset clears them', async () => {
    await http(emulator, 'POST', '/__emulator/faults/api', { body: { status: 429, times: 2, retryAfterSeconds: 3 } });
    await http(emulator, 'POST', '/__emulator/faults/api', { body: { status: 500, pathPattern: '^/merchant_orders/' } });

    const first = await http(emulator, 'GET', '/v1/payments/1', { token: TOKEN });
    const second = await http(emulator, 'GET', '/v1/payments/1', { token: TOKEN });
    const third = await http(emulator, 'GET', '/v1/payments/1', { token: TOKEN });
    const orders = [
      await http(emulator, 'GET', '/merchant_orders/1', { token: TOKEN }),
      await http(emulator, 'GET', '/merchant_orders/1', { token: TOKEN }),
    ];
    await http(emulator, 'POST', '/__emulator/reset');
    const afterReset = await http(emulator, 'GET', '/merchant_orders/1', { token: TOKEN });

    expect([first.status, second.status, third.status]).to.deep.equal([429, 429, 404]);
    expect(first.headers.get('retry-after')).to.equal('3');
    expect(first.body).to.include({ status: 429, error: 'too_many_requests' });
    expect(orders.map((o) => o.status)).to.deep.equal([500, 500]);
    expect(afterReset.status).to.equal(404);
    expect(emulator.requests()).to.have.length(1);
  });

  it('when a slow fault is injected, then the reply is delayed but still correct', async () => {
    await http(emulator, 'POST', '/__emulator/faults/api', { body: { delayMs: 300 } });
    const started = Date.now();
    const reply = await http(emulator, 'GET', '/v1/payments/search', { token: TOKEN });

    expect(reply.status).to.equal(200);
    expect(Date.now() - started).to.be.at.least(280);
  });

  it('when the request log is read over HTTP, then it shows method, path, key and body of each API call', async () => {
    await http(emulator, 'POST', '/checkout/preferences', {
      token: TOKEN,
      body: preferenceBody('order-log'),
      idempotencyKey: 'log-key',
    });

    const log = await http(emulator, 'GET', '/__emulator/requests?path=^/checkout');

    expect(log.body.requests).to.have.length(1);
    expect(log.body.requests[0]).to.include({
      method: 'POST',
      path: '/checkout/preferences',
      idempotencyKey: 'log-key',
      status: 201,
      authorized: true,
    });
    expect(log.body.requests[0].body.external_reference).to.equal('order-log');
  });
});

describe('MercadoPago emulator: signing helper', () => {
  it('when a notification is signed, then the SDK validator and a hand-built manifest agree, with alphanumeric ids lowercased', () => {
    const header = signMercadoPagoWebhook({ secret: SECRET, dataId: 'ABC123', requestId: 'req-1', ts: 1704908010 });

    expect(header).to.match(/^ts=1704908010,v1=[0-9a-f]{64}$/);
    expect(() =>
      WebhookSignatureValidator.validate({ xSignature: header, xRequestId: 'req-1', dataId: 'abc123', secret: SECRET }),
    ).not.to.throw();
    expect(() =>
      WebhookSignatureValidator.validate({ xSignature: header, xRequestId: 'req-2', dataId: 'abc123', secret: SECRET }),
    ).to.throw(/SignatureMismatch/);
  });
});
