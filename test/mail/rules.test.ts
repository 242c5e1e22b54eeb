import { expect } from 'chai';
import { mailId, mailKindFor, OPTIONAL_KINDS, orderNumber, type MailPayload } from '../../activities/mail/order-mail';
import { escapeHtml, moneyFormatter, renderMail } from '../../activities/mail/render';
import { isPermanentRejection, retryDelaySeconds } from '../../workers/mail-relay';

const plain = (text: string) => text.replace(/\s+/g, ' ');

const payload = (overrides: Partial<MailPayload> = {}): MailPayload => ({
  orderId: '3f2a9c1b-1111-4222-8333-444455556666',
  orderNumber: '3F2A9C1B',
  cafeName: 'Café Demo',
  customerName: 'Ana',
  pickupName: null,
  currency: 'ARS',
  totalMinor: 250000,
  occurredAt: '2026-12-03T12:00:00.000Z',
  ...overrides,
});

describe('customer email rules', () => {
  it('when events are mapped to mails, then only payment, ready, cancellation, expiry and refunds send one', () => {
    const types = [
      'placed',
      'payment_approved',
      'payment_rejected',
      'payment_to_refund',
      'accept',
      'ready',
      'complete',
      'cancelled',
      'expired',
      'refunded',
      'payment_refunded',
      'payment_charged_back',
    ];
    expect(Object.fromEntries(types.map((type) => [type, mailKindFor({ type }) ?? null]))).to.deep.equal({
      placed: null,
      payment_approved: 'receipt',
      payment_rejected: null,
      payment_to_refund: null,
      accept: null,
      ready: 'ready',
      complete: null,
      cancelled: 'cancelled',
      expired: 'expired',
      refunded: 'refunded',
      payment_refunded: 'refunded',
      payment_charged_back: null,
    });
    expect(OPTIONAL_KINDS).to.deep.equal(['ready']);
    expect(mailId({ orderId: 'o-1', seq: 4 }, 'ready')).to.equal('order-o-1-4-ready');
    expect(orderNumber('3f2a9c1b-1111-4222-8333-444455556666')).to.equal('3F2A9C1B');
  });

  it("when amounts are formatted, then each currency uses its exponent and the café's language", () => {
    const cases: [string, string, number, string][] = [
      ['es', 'ARS', 250000, '$ 2.500,00'],
      ['es', 'CLP', 5000, '$5.000'],
      ['es', 'COP', 12000, '$ 12.000'],
      ['es', 'MXN', 12345, '$123.45'],
      ['es', 'PEN', 990, 'S/ 9.90'],
      ['es', 'UYU', 100, '$ 1,00'],
      ['pt-BR', 'BRL', 1999, 'R$ 19,99'],
      ['en', 'ARS', 5, 'ARS 0.05'],
    ];
    for (const [locale, currency, minor, expected] of cases) {
      expect(plain(moneyFormatter(locale, currency)(minor)), `${locale} ${currency}`).to.equal(expected);
    }
    // Beyond float precision the digits are still exact: the amount goes to Intl as a decimal string.
    expect(plain(moneyFormatter('en', 'ARS')(900719925474099))).to.equal('ARS 9,007,199,254,740.99');
  });

  it('when names carry markup or line breaks, then the HTML part escapes them and the subject stays one line', () => {
    const mail = renderMail(
      'ready',
      'es',
      payload({ cafeName: 'Bar\r\nBcc: x@evil.test', pickupName: '<img src=x onerror=alert(1)>' }),
    );

    expect(mail.subject).to.equal('Bar Bcc: x@evil.test: tu pedido #3F2A9C1B está listo');
    expect(mail.html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.html).to.not.include('<img');
    expect(mail.text).to.include('<img src=x onerror=alert(1)>');
    expect(escapeHtml(`&<>"'`)).to.equal('&amp;&lt;&gt;&quot;&#39;');
  });

  it('when a mail is rendered, then only the ready notice tells how to opt out, in the locale asked for', () => {
    const ready = renderMail('ready', 'pt-BR', payload());
    const receipt = renderMail('receipt', 'pt-BR', payload({ items: [] }));
    const unknownLocale = renderMail('expired', 'fr', payload());

    expect(ready.text).to.include('deixar de receber avisos');
    expect(receipt.text).to.not.include('deixar de receber');
    expect(unknownLocale.subject).to.equal('Café Demo: tu pedido #3F2A9C1B venció sin pago');
    expect(renderMail('expired', 'en', payload()).text).to.include('You were not charged.');
  });

  it('when SMTP fails, then only a 5xx to the envelope or message is final, and retries back off to the cap', () => {
    expect(isPermanentRejection({ code: 'EENVELOPE', responseCode: 550 })).to.equal(true);
    expect(isPermanentRejection({ code: 'EMESSAGE', responseCode: 554 })).to.equal(true);
    expect(isPermanentRejection({ code: 'EENVELOPE', responseCode: 451 })).to.equal(false);
    expect(isPermanentRejection({ code: 'EAUTH', responseCode: 535 })).to.equal(false);
    expect(isPermanentRejection({ code: 'ESOCKET' })).to.equal(false);
    expect(isPermanentRejection(undefined)).to.equal(false);
    expect([1, 2, 3, 4, 5, 50].map((attempt) => retryDelaySeconds(attempt, 10, 60))).to.deep.equal([10, 20, 40, 60, 60, 60]);
  });
});
