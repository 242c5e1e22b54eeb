import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { enqueueOrderMail } from '../../activities/mail/order-mail';
import { findMailsOfOrder } from '../../db/repositories/mail';
import { registerUser, type TestUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { fastMailEnv, startSmtpServer, until, type ReceivedMail, type SmtpTestServer } from '../support/mail';
import { act, openCafe, orderWithStatus, pay, type Cafe } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

// Intl separates the symbol with a no-break space; the assertions read plain spaces.
const plain = (text: string) => text.replace(/\s+/g, ' ');

describe('customer emails through the order lifecycle', () => {
  let stack: TestStack;
  let smtp: SmtpTestServer;
  let api: HttpClient;

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ name: 'mail-lifecycle', env: fastMailEnv(smtp) });
    api = httpClient(stack.baseUrl);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  async function place(customer: TestUser, cafe: Cafe, pickupName: string) {
    const response = await api.post(
      `/v1/businesses/${cafe.id}/orders`,
      {
        items: [
          { productId: cafe.products[0]!.id, quantity: 2 },
          { productId: cafe.products[1]!.id, quantity: 1 },
        ],
        pickupName,
      },
      { token: customer.token, headers: { 'idempotency-key': randomUUID() } },
    );
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body as { id: string; payment: { preferenceId: string } };
  }

  const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));
  const mailsWith = async (email: string, count: number) =>
    until(
      () => mailsTo(email),
      (mails) => mails.length >= count,
    );
  const messageIdOf = (orderId: string, seq: number, kind: string) => `<order-${orderId}-${seq}-${kind}@cafe.test>`;

  it('when an order is paid and made ready, then the customer gets a Spanish receipt and a ready notice', async () => {
    const cafe = await openCafe(api, { name: 'Café Aroma' });
    const customer = await registerUser(api, 'Ana');
    const order = await place(customer, cafe, 'Ana');
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    const [receipt] = await mailsWith(customer.email, 1);

    expect(receipt!.messageId).to.equal(messageIdOf(order.id, 2, 'receipt'));
    expect(receipt!.subject).to.match(/^Café Aroma: recibo de tu pedido #[0-9A-F]{8}$/);
    expect(receipt!.subject).to.include(order.id.replace(/-/g, '').slice(0, 8).toUpperCase());
    expect(receipt!.from).to.include('pedidos@cafe.test');
    const text = plain(receipt!.text);
    expect(text).to.include('a retirar a nombre de Ana');
    // 350 and 1200 ARS minor units: two decimals, Argentine format.
    expect(text).to.include('2 x Cortado');
    expect(text).to.include('($ 3,50) = $ 7,00');
    expect(text).to.include('($ 12,00) = $ 12,00');
    expect(text).to.include('Total: $ 19,00');
    expect(plain(receipt!.html)).to.include('<td style="padding:4px 8px;text-align:right">$ 3,50</td>');
    expect(receipt!.html).to.include('lang="es"');

    await act(api, cafe.owner, order.id, 'accept');
    await act(api, cafe.owner, order.id, 'ready');
    const mails = await mailsWith(customer.email, 2);
    const ready = mails[1]!;
    expect(ready.messageId).to.equal(messageIdOf(order.id, 4, 'ready'));
    expect(ready.subject).to.match(/^Café Aroma: tu pedido #[0-9A-F]{8} está listo$/);
    expect(ready.text).to.include('¡Ana, tu pedido está listo!');
    expect(ready.text).to.include('dejar de recibir avisos');

    await act(api, cafe.owner, order.id, 'complete');
    await orderWithStatus(api, customer, order.id, 'completed');
    const rows = await until(
      () => findMailsOfOrder(stack.db, order.id),
      (found) => found.every((row) => row.status === 'sent'),
    );
    expect(rows.map((row) => [row.seq, row.kind, row.status, row.attempts])).to.deep.equal([
      [2, 'receipt', 'sent', 1],
      [4, 'ready', 'sent', 1],
    ]);
    expect(rows[0]!.sentAt).to.be.instanceOf(Date);
    expect(mailsTo(customer.email)).to.have.length(2);
  });

  it('when the café speaks Portuguese and charges in pesos chilenos, then the receipt is in Portuguese with whole pesos and escapes the pickup name', async () => {
    const cafe = await openCafe(api, { name: 'Padaria <Sol>', currency: 'CLP', timeZone: 'America/Santiago', locale: 'pt-BR' });
    const customer = await registerUser(api, 'Rui');
    const order = await place(customer, cafe, '<b>Rui & "Co"</b>');
    await pay(stack, order.payment.preferenceId);
    const [receipt] = await mailsWith(customer.email, 1);

    expect(receipt!.subject).to.match(/^Padaria <Sol>: recibo do seu pedido #[0-9A-F]{8}$/);
    const text = plain(receipt!.text);
    expect(text).to.include('para retirar em nome de <b>Rui & "Co"</b>');
    expect(text).to.include('(CLP 350) = CLP 700');
    expect(text).to.include('Total: CLP 1.900');
    expect(receipt!.html).to.include('lang="pt-BR"');
    expect(receipt!.html).to.include('&lt;b&gt;Rui &amp; &quot;Co&quot;&lt;/b&gt;');
    expect(receipt!.html).to.include('Padaria &lt;Sol&gt;');
    expect(receipt!.html).to.not.include('<b>Rui');
  });

  it('when a paid order is cancelled, then the customer is told the money is coming back, and again when it is refunded', async () => {
    const cafe = await openCafe(api, { locale: 'en', name: 'Bean There' });
    const customer = await registerUser(api, 'Kim');
    const order = await place(customer, cafe, 'Kim');
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    const cancelled = await act(api, customer, order.id, 'cancel', { reason: 'changed my mind' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
    await orderWithStatus(api, customer, order.id, 'refunded');
    const mails: ReceivedMail[] = await mailsWith(customer.email, 3);

    expect(mails.map((mail) => mail.subject.replace(/#[0-9A-F]{8}/, '#N'))).to.deep.equal([
      'Bean There: receipt for your order #N',
      'Bean There: your order #N was cancelled',
      'Bean There: refund for order #N',
    ]);
    expect(plain(mails[1]!.text)).to.include('we are refunding ARS 19.00 to the same payment method');
    expect(plain(mails[2]!.text)).to.include('We refunded ARS 19.00 for order');
    expect(mails[1]!.text).to.not.include('changed my mind');
  });

  it('when an unpaid order is cancelled, then the notice says nothing was charged', async () => {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Leo');
    const order = await place(customer, cafe, 'Leo');
    await act(api, customer, order.id, 'cancel', { reason: 'wrong café' });
    const [notice] = await mailsWith(customer.email, 1);

    expect(notice!.subject).to.match(/: tu pedido #[0-9A-F]{8} fue cancelado$/);
    expect(notice!.text).to.include('No se te cobró nada.');
    expect(notice!.messageId).to.equal(messageIdOf(order.id, 2, 'cancelled'));
  });

  it('when the customer opts out of order updates, then the ready notice is not sent but the receipt is', async () => {
    const cafe = await openCafe(api);
    const customer = await registerUser(api, 'Noa');
    const optOut = await api.patch('/v1/me/preferences', { orderUpdatesEmails: false }, { token: customer.token });
    expect(optOut.status, JSON.stringify(optOut.body)).to.equal(200);
    expect(optOut.body).to.deep.equal({ orderUpdatesEmails: false });
    const order = await place(customer, cafe, 'Noa');
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await act(api, cafe.owner, order.id, 'accept');
    await act(api, cafe.owner, order.id, 'ready');
    await act(api, cafe.owner, order.id, 'complete');
    await orderWithStatus(api, customer, order.id, 'completed');
    await mailsWith(customer.email, 1);

    const rows = await findMailsOfOrder(stack.db, order.id);
    expect(rows.map((row) => row.kind)).to.deep.equal(['receipt']);
    // The relay polls every second: give a wrongly queued ready notice the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(mailsTo(customer.email).map((mail) => mail.subject)).to.have.length(1);
    expect(mailsTo(customer.email)[0]!.subject).to.include('recibo');
  });
  it('when an order expires unpaid, then the customer is told nothing was charged', async () => {
    const cafe = await openCafe(api, { name: 'Café Aroma' });
    const customer = await registerUser(api, 'Sol');
    const order = await place(customer, cafe, 'Sol');
    const placed = await stack.db('orderEvents').where({ orderId: order.id, seq: 1 }).first();
    // The event the workflow records at the payment deadline (the deadline itself is covered in test/workflows).
    await stack.db.transaction((trx) =>
      enqueueOrderMail(trx, {
        orderId: order.id,
        businessId: cafe.id,
        seq: 2,
        type: 'expired',
        fromStatus: 'pending_payment',
        toStatus: 'expired',
        data: { reason: 'payment_deadline_passed' },
        occurredAt: placed.occurredAt.toISOString(),
      }),
    );
    const [notice] = await mailsWith(customer.email, 1);

    expect(notice!.subject).to.match(/^Café Aroma: tu pedido #[0-9A-F]{8} venció sin pago$/);
    expect(notice!.text).to.include('No se te cobró nada.');
    expect(notice!.messageId).to.equal(messageIdOf(order.id, 2, 'expired'));
  });

  it('when preferences or a locale are malformed, then the API answers 400 and the stored values stay', async () => {
    const customer = await registerUser(api, 'Max');
    const empty = await api.patch('/v1/me/preferences', {}, { token: customer.token });
    const wrongType = await api.patch('/v1/me/preferences', { orderUpdatesEmails: 'no' }, { token: customer.token });
    const unknown = await api.patch('/v1/me/preferences', { marketing: false }, { token: customer.token });
    const owner = await registerUser(api, 'Owner');
    const cafe = await api.post(
      '/v1/businesses',
      { name: 'Café', currency: 'ARS', timeZone: 'UTC', locale: 'fr' },
      { token: owner.token },
    );

    expect([empty, wrongType, unknown, cafe].map((res) => [res.status, res.body.error.code])).to.deep.equal([
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
    ]);
    const current = await api.get('/v1/me/preferences', { token: customer.token });
    expect(current.body).to.deep.equal({ orderUpdatesEmails: true });
  });
});
