/**
 * The currencies MercadoPago settles, and how many decimals it takes each in: the one table the
 * menu, the order total and the amounts sent to the provider all read. Amounts in the app are
 * integer minor units of these exponents (250000 ARS minor units are 2500.00; 5000 CLP are 5000).
 *
 * COP has two decimals in ISO 4217, but MercadoPago refuses COP prices that are not whole pesos,
 * so here its minor unit is the peso. Pure code, no `node:` imports: workflows import it too.
 */
export const CURRENCY_EXPONENTS = {
  ARS: 2,
  BRL: 2,
  CLP: 0,
  COP: 0,
  MXN: 2,
  PEN: 2,
  UYU: 2,
} as const;

export type CurrencyCode = keyof typeof CURRENCY_EXPONENTS;

export const SUPPORTED_CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as CurrencyCode[];

/** An own-property check, so `constructor` or `toString` are never taken for a currency. */
export function isSupportedCurrency(code: unknown): code is CurrencyCode {
  return typeof code === 'string' && Object.hasOwn(CURRENCY_EXPONENTS, code);
}

export function currencyExponent(code: string): number {
  if (!isSupportedCurrency(code)) throw new RangeError(`${code} is not a currency MercadoPago settles for us`);
  return CURRENCY_EXPONENTS[code];
}

/** For display next to amounts: null for a code outside the table (a row older than the table). */
export function exponentOf(code: string): number | null {
  return isSupportedCurrency(code) ? CURRENCY_EXPONENTS[code] : null;
}

/** 250000 ARS -> "2500.00", 5000 CLP -> "5000": built from digits, so no float arithmetic touches it. */
export function formatMinor(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`an amount in minor units must be an integer, got ${minor}`);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  if (exponent === 0) return `${sign}${digits}`;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * The decimal text or JSON number MercadoPago uses ("2500.00", 12.34, 5000) to integer minor
 * units. Digits beyond the currency's exponent (float noise such as 0.30000000000000004) round
 * half up; anything that is not a plain decimal is undefined.
 */
export function parseMinor(amount: number | string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const match = DECIMAL.exec(String(amount).trim());
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = ''] = match;
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  const roundUp = (fraction[exponent] ?? '0') >= '5' ? 1 : 0;
  const minor = Number(`${whole}${kept}`) + roundUp;
  if (!Number.isSafeInteger(minor)) return undefined;
  return sign === '-' ? -minor : minor;
}

/** True when `amount` has no more decimals than the currency takes (5000 CLP yes, 5000.5 CLP no). */
export function isExactAmount(amount: number | string, currency: string): boolean {
  const match = DECIMAL.exec(String(amount).trim());
  return match !== null && (match[3] ?? '').replace(/0+$/, '').length <= currencyExponent(currency);
}
