import fc from 'fast-check';

/** Values an attacker (or a broken client) sends instead of the ones asked for. */

/** Strings that have broken other APIs: injections, encodings Postgres refuses, sizes, look-alike ids. */
export const NASTY_STRINGS = [
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "Robert'); DROP TABLE orders;--",
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '__proto__',
  'constructor',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\ufeff',
  'e\u0301\u0301\u0301',
  '☕'.repeat(300),
  '𝓒𝓪𝓯𝓮 '.repeat(100),
  '',
  ' ',
  '\t\r\n',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  '%s%s%n',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'true',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{3fa85f64-5717-4562-b3fc-2c963f66afa6}',
  '3FA85F64-5717-4562-B3FC-2C963F66AFA6',
  '3fa85f64571745 62b3fc2c963f66afa6',
  '3fa85f64-5717-4562-b3fc-2c963f66afa6\u0000',
  'x'.repeat(5000),
];

/** Text Postgres cannot store as it is: NUL, and UTF-16 surrogates without their pair. */
export const UNSTORABLE_STRINGS = ['a\u0000b', '\u0000', 'x\ud800y', '\udfff', 'caf\u00e9\u0000'];

/** Keys worth trying as extra fields: prototype names, operators, and fields a client must not set. */
export const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '$gt',
  '$where',
  'toString',
  'hasOwnProperty',
  'id',
  'role',
  'isAdmin',
  'userId',
  'businessId',
  'customerId',
  'ownerId',
  'status',
  'totalMinor',
  'passwordHash',
];

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, 1e21),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
);

export const hostileScalar = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
);

/** Any JSON value a client could send instead of the one asked for. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...NASTY_KEYS), hostileScalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constant({ a: { b: { c: { d: [[[{ e: null }]]] } } } }) },
);

/** `arbitrary` one time in `oneIn`, null otherwise (fc.option's `freq` is the chance of the null). */
export const sometimes = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** Unicode that fills a field to its limit (counted in UTF-16 units, as the schemas count) without splitting a pair. */
function longUnicode(max: number): string {
  const pieces = ['☕', '𝓒', 'é', '中', '🇦🇷', 'ü', '\u202e', 'ß'];
  let text = '';
  for (let i = 0; text.length < max; i++) {
    const piece = pieces[i % pieces.length]!;
    text += text.length + piece.length <= max ? piece : 'ß';
  }
  return text;
}

/** What a value should do: be stored as it is, or be refused. */
export type Fate = 'stored' | 'refused';

export function injections(maxLength: number): [string, string, Fate][] {
  return [
    ['a SQL tautology', "' OR 1=1 --", 'stored'],
    ['a stacked DROP TABLE', '"; DROP TABLE users; --', 'stored'],
    ['a quote-closing DROP TABLE', "Robert'); DROP TABLE orders;--", 'stored'],
    ['a Mongo-style operator', '{"$gt": ""}', 'stored'],
    ['a placeholder', '$1 ? :name %s', 'stored'],
    ['backslashes and quotes', '\\\'\\"\\\\', 'stored'],
    ['"__proto__"', '__proto__', 'stored'],
    ['"constructor"', 'constructor', 'stored'],
    ['markup', '<img src=x onerror=alert(1)>', 'stored'],
    ['long unicode up to the limit', longUnicode(maxLength), 'stored'],
    ['a NUL character', 'caf\u0000é', 'refused'],
    ['an unpaired surrogate', 'caf\ud800é', 'refused'],
    ['one character over the limit', 'x'.repeat(maxLength + 1), 'refused'],
  ];
}
