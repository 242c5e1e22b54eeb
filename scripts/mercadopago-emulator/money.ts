import { formatMinor, isExactAmount, isSupportedCurrency, parseMinor } from '../../lib/currencies';

/**
 * MercadoPago speaks decimal amounts in each currency's own precision (`unit_price: 12.34` in
 * ARS, `5000` in CLP); the emulator keeps integer minor units so sums, partial refunds and
 * comparisons never drift. Conversion happens only at the JSON edge, with the same exponent table
 * the app uses (lib/currencies.ts).
 */

export const isEmulatedCurrency = isSupportedCurrency;

/**
 * Parses a positive decimal with no more fraction digits than the currency takes. Anything else
 * (NaN, exponents, `0.30000000000000004`, `5000.5` CLP) is rejected rather than rounded, as
 * MercadoPago refuses decimals in CLP and COP: a caller sending them has a bug to surface.
 */
export function decimalToMinor(value: unknown, currency: string): number | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  if (!isSupportedCurrency(currency) || !isExactAmount(value, currency)) return undefined;
  return parseMinor(value, currency);
}

/** Integer minor units to the decimal JSON number MercadoPago would send (1234 ARS -> 12.34, 5000 CLP -> 5000). */
export function minorToDecimal(minor: number, currency: string): number {
  return Number(formatMinor(minor, currency));
}

/** For people: 1234 ARS -> "12.34", 5000 CLP -> "5000". */
export const minorToText = formatMinor;
