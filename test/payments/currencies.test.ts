import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { addProduct, createCafe, registerUser } from '../support/fixtures';
import { orderWithStatus, pay } from '../support/orders';
import { paymentAtProvider, preferenceCreates } from '../support/payments';
import { useOrderStack } from '../support/use-stack';

describe('currencies MercadoPago settles', () => {
  const the = useOrderStack({ name: 'currencies', env: { RATE_LIMIT_PER_MINUTE: '100000' }, cafe: false });

  /** A café in `currency` selling one product at `priceMinor`, and one order of it, placed and paid at the emulator. */
  async function paidOrderIn(currency: string, priceMinor: number) {
    const owner = await registerUser(the.api, 'Owner');
    const cafe = await createCafe(the.api, owner, { currency });
    const product = await addProduct(the.api, owner, cafe.id, { priceMinor });
    const placed = await the.api.post(
      `/v1/businesses/${cafe.id}/orders`,
      { items: [{ productId: product.id, quantity: 1 }] },
      { token: the.customer.token, headers: { 'idempotency-key': randomUUID() } },
    );
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    const payment = await pay(the.stack, placed.body.payment.preferenceId);
    const paid = await orderWithStatus(the.api, the.customer, placed.body.id, 'paid');
    const [preference] = preferenceCreates(the.stack, placed.body.id);
    return { cafe, owner, placed: placed.body, paid, payment, sentItems: (preference?.body as { items: any[] }).items };
  }

  it('when a CLP order for 5000 is placed and paid, then MercadoPago is sent 5000, charges 5000 and the order is paid', async () => {
    const { placed, paid, payment, sentItems } = await paidOrderIn('CLP', 5000);

    expect(placed).to.deep.include({ currency: 'CLP', totalMinor: 5000 });
    expect(sentItems.map((item) => [item.unit_price, item.currency_id])).to.deep.equal([[5000, 'CLP']]);
    expect(await paymentAtProvider(the.stack, payment.id)).to.deep.include({ transaction_amount: 5000, currency_id: 'CLP' });
    expect(paid).to.deep.include({ status: 'paid', paymentId: String(payment.id), totalMinor: 5000 });
  });

  it('when an ARS order for 250000 minor units is placed and paid, then MercadoPago is sent 2500.00 and the order is paid', async () => {
    const { paid, payment, sentItems } = await paidOrderIn('ARS', 250_000);

    expect(sentItems.map((item) => [item.unit_price, item.currency_id])).to.deep.equal([[2500.0, 'ARS']]);
    expect(await paymentAtProvider(the.stack, payment.id)).to.deep.include({ transaction_amount: 2500.0, currency_id: 'ARS' });
    expect(paid).to.deep.include({ status: 'paid', totalMinor: 250_000 });
  });

  it('when an ARS price has centavos, then they reach MercadoPago as decimals', async () => {
    const { sentItems } = await paidOrderIn('ARS', 250_050);

    expect(sentItems[0].unit_price).to.equal(2500.5);
  });

  it('when the menu of a CLP café is read, then prices come with exponent 0', async () => {
    const owner = await registerUser(the.api);
    const cafe = await createCafe(the.api, owner, { currency: 'CLP' });
    await addProduct(the.api, owner, cafe.id, { priceMinor: 5000 });

    const menu = await the.api.get(`/v1/businesses/${cafe.id}/products`, { token: the.customer.token });

    expect(menu.body.data[0]).to.include({ priceMinor: 5000, currency: 'CLP', currencyExponent: 0 });
    expect((await the.api.get(`/v1/businesses/${cafe.id}`, { token: the.customer.token })).body.currencyExponent).to.equal(0);
  });

  for (const currency of ['USD', 'EUR']) {
    it(`when a café is created in ${currency}, then 422 UNSUPPORTED_CURRENCY and no café exists`, async () => {
      const owner = await registerUser(the.api);

      const res = await the.api.post('/v1/businesses', { name: 'Café', currency, timeZone: 'UTC' }, { token: owner.token });

      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('UNSUPPORTED_CURRENCY');
      expect(res.body.error.details.supported).to.deep.equal(['ARS', 'BRL', 'CLP', 'COP', 'MXN', 'PEN', 'UYU']);
      expect((await the.api.get('/v1/businesses', { token: owner.token })).body.data).to.deep.equal([]);
    });

    it(`when a café is changed to ${currency}, then 422 UNSUPPORTED_CURRENCY and it keeps its currency`, async () => {
      const owner = await registerUser(the.api);
      const cafe = await createCafe(the.api, owner);

      const res = await the.api.patch(`/v1/businesses/${cafe.id}`, { currency }, { token: owner.token });

      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('UNSUPPORTED_CURRENCY');
      expect((await the.api.get(`/v1/businesses/${cafe.id}`, { token: owner.token })).body.currency).to.equal('ARS');
    });
  }

  it('when a café changes to another settled currency, then 200 with that currency and its exponent', async () => {
    const owner = await registerUser(the.api);
    const cafe = await createCafe(the.api, owner);

    const res = await the.api.patch(`/v1/businesses/${cafe.id}`, { currency: 'COP' }, { token: owner.token });

    expect(res.status).to.equal(200);
    expect(res.body).to.include({ currency: 'COP', currencyExponent: 0 });
  });

  it('when a café stored before the table has another currency, then orders answer 422 UNSUPPORTED_CURRENCY and nothing reaches MercadoPago', async () => {
    const owner = await registerUser(the.api);
    const cafe = await createCafe(the.api, owner);
    const product = await addProduct(the.api, owner, cafe.id, { priceMinor: 500 });
    await the.stack.db('businesses').where({ id: cafe.id }).update({ currency: 'USD' });
    const preferencesBefore = the.stack.emulator.requests().filter((r) => r.path.startsWith('/checkout/preferences')).length;

    const res = await the.api.post(
      `/v1/businesses/${cafe.id}/orders`,
      { items: [{ productId: product.id, quantity: 1 }] },
      { token: the.customer.token, headers: { 'idempotency-key': randomUUID() } },
    );

    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('UNSUPPORTED_CURRENCY');
    expect(the.stack.emulator.requests().filter((r) => r.path.startsWith('/checkout/preferences'))).to.have.length(
      preferencesBefore,
    );
  });
});
