/**
 * MercadoPago speaks decimal amounts (`unit_price: 12.34`); the emulator keeps integer cents so
 * sums, partial refunds and comparisons never drift. Conversion happens only at the JSON edge.
 */

const DECIMAL = /^(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Parses a positive decimal with at most two fraction digits. Anything else (NaN, exponents,
 * `0.30000000000000004`) is rejected rather than rounded: a caller sending float noise has a bug
 * the emulator should surface, not hide.
 */
export function decimalToCents(value: unknown): number | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const match = DECIMAL.exec(String(value).trim());
  if (!match) return undefined;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  const cents = whole * 100 + fraction;
  return Number.isSafeInteger(cents) ? cents : undefined;
}

/** Integer cents to the decimal JSON number MercadoPago would send (1234 -> 12.34). */
export function centsToDecimal(cents: number): number {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return Number(`${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`);
}
