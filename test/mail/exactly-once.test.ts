import { expect } from 'chai';
import { enqueueOrderMail } from '../../activities/mail/order-mail';
import { findMailsOfOrder } from '../../db/repositories/mail';
import type { OrderEvent } from '../../workflows/orders/contracts';
import { registerUser } from '../support/fixtures';
import { httpClient, type HttpClient } from '../support/http';
import { fastMailEnv, startSmtpServer, until, type SmtpTestServer } from '../support/mail';
import { act, openCafe, orderWithStatus, pay, placeOrder, type Cafe } from '../support/orders';
import { clearFaults, injectNotificationFault, notificationsProcessed, sendNotification } from '../support/payments';
import { startStack, type TestStack } from '../support/stack';
import { failingAfterCommit } from '../support/faults';

describe('customer emails: exactly one message per (order, event)', () => {
  let stack: TestStack;
  let smtp: SmtpTestServer;
  let api: HttpClient;
  let cafe: Cafe;
  const failures = new Map<string, number>();

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({
      name: 'mail-exactly-once',
      env: { ...fastMailEnv(smtp), RATE_LIMIT_PER_MINUTE: '100000' },
      wrapActivities: failingAfterCommit(failures),
    });
    api = httpClient(stack.baseUrl);
    cafe = await openCafe(api);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));
  const storedEvent = async (orderId: string, type: string): Promise<OrderEvent> => {
    const row = await stack.db('orderEvents').where({ orderId, type }).first();
    const order = await stack.db('orders').where({ id: orderId }).first();
    return { ...row, businessId: order.businessId, occurredAt: row.occurredAt.toISOString() } as OrderEvent;
  };

  it('when every read-model write is retried after it committed, then each mail is sent once', async () => {
    const customer = await registerUser(api, 'Eva');
    const order = await placeOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await act(api, cafe.owner, order.id, 'accept');
    await act(api, cafe.owner, order.id, 'ready');
    await act(api, cafe.owner, order.id, 'complete');
    await orderWithStatus(api, customer, order.id, 'completed');
    await until(
      () => mailsTo(customer.email),
      (mails) => mails.length >= 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect([...failures.entries()].filter(([key]) => key.startsWith(order.id)).map(([, count]) => count)).to.deep.equal([
      2, 2, 2, 2,
    ]);
    expect(mailsTo(customer.email).map((mail) => mail.messageId)).to.deep.equal([
      `<order-${order.id}-2-receipt@cafe.test>`,
      `<order-${order.id}-4-ready@cafe.test>`,
    ]);
  });

  it('when the same event is queued again (a redelivered event), then nothing new is queued or sent', async () => {
    const customer = await registerUser(api, 'Ivo');
    const order = await placeOrder(api, customer, cafe);
    await pay(stack, order.payment.preferenceId);
    await orderWithStatus(api, customer, order.id, 'paid');
    await until(
      () => mailsTo(customer.email),
      (mails) => mails.length === 1,
    );
    const event = await storedEvent(order.id, 'payment_approved');

    const queuedAgain = await stack.db.transaction((trx) => enqueueOrderMail(trx, event));
    const queuedOnceMore = await enqueueOrderMail(stack.db, event);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect([queuedAgain, queuedOnceMore]).to.deep.equal([false, false]);
    expect((await findMailsOfOrder(stack.db, order.id)).map((row) => [row.kind, row.status, row.attempts])).to.deep.equal([
      ['receipt', 'sent', 1],
    ]);
    expect(mailsTo(customer.email)).to.have.length(1);
  });

  it('when MercadoPago delivers the payment webhook 10 times and again later, then one receipt is sent', async () => {
    const customer = await registerUser(api, 'Teo');
    const order = await placeOrder(api, customer, cafe);
    await injectNotificationFault(stack, { type: 'duplicate', copies: 10 });
    const payment = await pay(stack, order.payment.preferenceId);
    await clearFaults(stack);
    await orderWithStatus(api, customer, order.id, 'paid');
    await notificationsProcessed(stack, [payment.id]);
    await sendNotification(stack, { id: payment.id });
    await sendNotification(stack, { id: payment.id, kind: 'ipn' });
    await stack.emulator.idle();
    await until(
      () => mailsTo(customer.email),
      (mails) => mails.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));

    expect(mailsTo(customer.email).map((mail) => mail.messageId)).to.deep.equal([`<order-${order.id}-2-receipt@cafe.test>`]);
    expect(await findMailsOfOrder(stack.db, order.id)).to.have.length(1);
  });

  it('when the mail relay is restarted in the middle of a send, then the mail is sent again and received once', async () => {
    const customer = await registerUser(api, 'Uma');
    const order = await placeOrder(api, customer, cafe);
    const dataBefore = smtp.dataCommands();
    const held = smtp.holdNextData();
    await pay(stack, order.payment.preferenceId);
    await held.reached;

    // The stop's grace runs out while the server still holds its 250: the send is cut off.
    await stack.restartMailRelay(200);
    await held.gone;
    held.release();
    await until(
      () => mailsTo(customer.email),
      (mails) => mails.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(smtp.dataCommands() - dataBefore).to.equal(2);
    expect(mailsTo(customer.email).map((mail) => mail.messageId)).to.deep.equal([`<order-${order.id}-2-receipt@cafe.test>`]);
    const [row] = await findMailsOfOrder(stack.db, order.id);
    expect(row).to.include({ status: 'sent', attempts: 2 });
  });
});
