import { CURRENCY_EXPONENTS, formatMinor, isSupportedCurrency } from '../../lib/currencies';
import { isMailLocale, mailWords, type MailWords } from './messages';
import type { MailKind, MailPayload } from './order-mail';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

// The region whose number format customers paying in the currency read every day (es-AR: $ 2.500,00).
const CURRENCY_REGION: Record<keyof typeof CURRENCY_EXPONENTS, string> = {
  ARS: 'AR',
  BRL: 'BR',
  CLP: 'CL',
  COP: 'CO',
  MXN: 'MX',
  PEN: 'PE',
  UYU: 'UY',
};

/**
 * Minor units to text in the café's language with the currency's exponent (lib/currencies.ts):
 * 250000 ARS in `es` is "$ 2.500,00", 5000 CLP is "$5.000". The decimal string goes to Intl as
 * it is, so no float arithmetic touches the amount. A currency outside the table (older cafés)
 * falls back to Intl's own digits rather than failing the mail.
 */
export function moneyFormatter(locale: string, currency: string): (minor: number) => string {
  const language = (isMailLocale(locale) ? locale : 'es').split('-')[0];
  if (!isSupportedCurrency(currency)) {
    const format = new Intl.NumberFormat(language, { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return (minor) => format.format(minor / 10 ** digits);
  }
  const exponent = CURRENCY_EXPONENTS[currency];
  const format = new Intl.NumberFormat(`${language}-${CURRENCY_REGION[currency]}`, {
    style: 'currency',
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  // Intl takes exact decimal strings (ES2023); the ES2022 lib types only know numbers.
  return (minor) => format.format(formatMinor(minor, currency) as unknown as number);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Every value that reaches the HTML part goes through here: names come from customers and staff. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);

function itemRows(payload: MailPayload, money: (minor: number) => string) {
  return (payload.items ?? []).map((item) => ({
    name: item.name,
    quantity: String(item.quantity),
    unitPrice: money(item.unitPriceMinor),
    amount: money(item.lineTotalMinor),
  }));
}

function textPart(words: MailWords, payload: MailPayload, money: (minor: number) => string): string {
  const lines = [words.heading, '', ...words.paragraphs];
  if (words.table) {
    lines.push('');
    for (const row of itemRows(payload, money)) lines.push(`${row.quantity} x ${row.name} (${row.unitPrice}) = ${row.amount}`);
    lines.push(`${words.table.total}: ${money(payload.totalMinor)}`);
  }
  lines.push('', '--', words.footer);
  return `${lines.join('\n')}\n`;
}

function htmlTable(table: NonNullable<MailWords['table']>, payload: MailPayload, money: (minor: number) => string): string {
  const cell = (text: string, align = 'left') => `<td style="padding:4px 8px;text-align:${align}">${escapeHtml(text)}</td>`;
  const head = [table.item, table.quantity, table.unitPrice, table.amount]
    .map((title, index) => `<th style="padding:4px 8px;text-align:${index === 0 ? 'left' : 'right'}">${escapeHtml(title)}</th>`)
    .join('');
  const rows = itemRows(payload, money)
    .map(
      (row) =>
        `<tr>${cell(row.name)}${cell(row.quantity, 'right')}${cell(row.unitPrice, 'right')}${cell(row.amount, 'right')}</tr>`,
    )
    .join('');
  const total = `<tr><th colspan="3" style="padding:4px 8px;text-align:right">${escapeHtml(table.total)}</th>${cell(money(payload.totalMinor), 'right')}</tr>`;
  return `<table style="border-collapse:collapse"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody><tfoot>${total}</tfoot></table>`;
}

function htmlPart(words: MailWords, payload: MailPayload, locale: string, money: (minor: number) => string): string {
  const paragraphs = words.paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('');
  const table = words.table ? htmlTable(words.table, payload, money) : '';
  const footer = words.footer
    .split('\n')
    .map((line) => escapeHtml(line))
    .join('<br>');
  return [
    `<!doctype html><html lang="${escapeHtml(locale)}"><head><meta charset="utf-8"><title>${escapeHtml(words.subject)}</title></head>`,
    '<body style="font-family:sans-serif;color:#222">',
    `<h1 style="font-size:20px">${escapeHtml(words.heading)}</h1>${paragraphs}${table}`,
    `<p style="color:#777;font-size:12px">${footer}</p></body></html>`,
  ].join('');
}

/** A queued mail's plain-text and HTML parts, in the café's language. */
export function renderMail(kind: MailKind, locale: string, payload: MailPayload): RenderedMail {
  const money = moneyFormatter(locale, payload.currency);
  const words = mailWords(kind, locale, payload, money);
  // One line: a name with a line break must never start a header of its own.
  const subject = words.subject.replace(/\s+/g, ' ').trim();
  return { subject, text: textPart(words, payload, money), html: htmlPart(words, payload, locale, money) };
}
