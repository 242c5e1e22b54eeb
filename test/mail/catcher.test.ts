import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import nodemailer from 'nodemailer';
import { renderMail } from '../../activities/mail/render';
import { startMailCatcher, type MailCatcher } from '../../scripts/stack/mail-catcher';

describe("npm start's mail catcher", () => {
  let catcher: MailCatcher;
  let directory: string;

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'cafe-flow-mail-catcher-'));
    catcher = await startMailCatcher({ mailDirectory: directory });
  });
  after(async () => {
    await catcher?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('when a receipt is sent to it, then its web inbox lists the message and serves the inbox page', async () => {
    const rendered = renderMail('receipt', 'es', {
      orderId: '7f7e6f1c-0000-4000-8000-000000000001',
      orderNumber: '7F7E6F1C',
      cafeName: 'Café Demo',
      customerName: 'Ana',
      pickupName: 'Ana',
      currency: 'ARS',
      totalMinor: 1900,
      items: [{ name: 'Cortado', quantity: 1, unitPriceMinor: 1900, lineTotalMinor: 1900 }],
      occurredAt: new Date().toISOString(),
    });
    const transport = nodemailer.createTransport(catcher.smtpUrl);
    await transport.sendMail({
      from: 'Café Demo <pedidos@cafe.test>',
      to: 'ana@example.com',
      messageId: '<order-catcher-2-receipt@cafe.test>',
      ...rendered,
    });
    transport.close();

    expect(new URL(catcher.smtpUrl).hostname).to.equal('127.0.0.1');
    const inbox = (await (await fetch(`${catcher.inboxUrl}/api/email`)).json()) as {
      subject: string;
      to: { address: string }[];
      headers: Record<string, string>;
    }[];
    expect(inbox.map((mail) => [mail.subject, mail.to[0]?.address, mail.headers['message-id']])).to.deep.equal([
      ['Café Demo: recibo de tu pedido #7F7E6F1C', 'ana@example.com', '<order-catcher-2-receipt@cafe.test>'],
    ]);
    const page = await fetch(catcher.inboxUrl, { headers: { accept: 'text/html' } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<html/i);
  });
});
