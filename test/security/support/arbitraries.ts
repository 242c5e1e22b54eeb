import fc from 'fast-check';
import { hostileScalar, hostileString, hostileValue, NASTY_KEYS, NASTY_STRINGS, sometimes, UNSTORABLE_STRINGS } from './hostile';
import type { JsonSchema, Operation } from './openapi';

/**
 * fast-check arbitraries that turn the OpenAPI document into requests: mostly shaped like the
 * schema (so they get past validation and reach the services and the database), with hostile
 * values mixed in at every level.
 */

export interface KnownValues {
  /**
   * Ids that exist, by the parameter or field that holds them (`businessId`, `productId`...), so
   * most requests reach rows instead of stopping at "not found".
   */
  ids: Record<string, string[]>;
  emails: string[];
}

/** Values that pass the schema and mean something to the service, for fields the schema leaves open. */
const HINTS: Record<string, fc.Arbitrary<unknown>> = {
  timeZone: fc.constantFrom('UTC', 'America/Argentina/Buenos_Aires', 'Europe/Madrid', 'Etc/GMT+12'),
  currency: fc.constantFrom('ARS', 'USD', 'BRL', 'EUR'),
  password: fc.string({ minLength: 10, maxLength: 30 }),
  email: fc.uuid().map((id) => `fuzz-${id}@example.test`),
  // The webhook's IPN form: a known topic gets the notification recorded, not ignored.
  topic: fc.constantFrom('payment', 'merchant_order'),
  type: fc.constantFrom('payment', 'topic_merchant_order_wh'),
};

export type Resolve = (schema: JsonSchema) => JsonSchema;

export function schemaArbitraries(resolve: Resolve, known: KnownValues) {
  function stringFor(schema: JsonSchema, name?: string): fc.Arbitrary<unknown> {
    if (schema.format === 'uuid') {
      const ids = (name && known.ids[name]) || Object.values(known.ids).flat();
      return ids.length > 0
        ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.uuid() })
        : fc.uuid();
    }
    if (schema.format === 'email') {
      return fc.oneof(
        ...(known.emails.length > 0 ? [fc.constantFrom(...known.emails)] : []),
        HINTS.email as fc.Arbitrary<string>,
        fc.emailAddress(),
      );
    }
    if (schema.format === 'date-time') {
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString());
    }
    if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? 5000;
    // Nasty text cut to the declared bounds, so it passes validation and reaches the database.
    const fit = (text: string) => text.slice(0, max).padEnd(min, 'x');
    return fc.oneof(
      { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 60), unit: 'grapheme' }) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY_STRINGS).map(fit) },
      { weight: 1, arbitrary: fc.constantFrom(...UNSTORABLE_STRINGS).map(fit) },
    );
  }

  /** A value the schema accepts (as far as the document says). */
  function valid(raw: JsonSchema, name?: string): fc.Arbitrary<unknown> {
    const schema = resolve(raw);
    const hint = name && schema.format === undefined ? HINTS[name] : undefined;
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((alternative) => valid(alternative, name)));
    if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => valid({ ...schema, type }, name)));
    switch (schema.type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -(2 ** 31), max: schema.maximum ?? 2 ** 31 - 1 });
      case 'number':
        return fc.double({ min: schema.minimum, max: schema.maximum, noNaN: true, noDefaultInfinity: true });
      case 'string':
        return hint
          ? fc.oneof({ weight: 3, arbitrary: hint }, { weight: 1, arbitrary: stringFor(schema, name) })
          : stringFor(schema, name);
      case 'array':
        return fc.array(field(schema.items ?? {}), {
          minLength: schema.minItems ?? 0,
          maxLength: Math.min(schema.maxItems ?? 4, 4),
        });
      case 'object':
        return object(schema);
      default:
        return hostileValue;
    }
  }

  /** Mostly valid, sometimes hostile: applied at every level of a body. */
  function field(schema: JsonSchema, name?: string): fc.Arbitrary<unknown> {
    return fc.oneof({ weight: 10, arbitrary: valid(schema, name) }, { weight: 1, arbitrary: hostileValue });
  }

  /** The schema's object, then perhaps a required key dropped or fields it does not know added. */
  function object(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
    const properties = schema.properties ?? {};
    const shape = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, field(value, key)]));
    const base = fc.record(shape, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Record<string, unknown>>;
    const extra = fc.dictionary(fc.oneof(fc.constantFrom(...NASTY_KEYS), fc.string({ maxLength: 8 })), hostileValue, {
      maxKeys: 3,
    });
    return fc
      .tuple(base, sometimes(extra, 6), sometimes(fc.constantFrom(...(schema.required ?? ['-'])), 8))
      .map(([value, more, drop]) => {
        const result: Record<string, unknown> = { ...value };
        for (const [key, extraValue] of Object.entries(more ?? {})) {
          // Defined, not assigned: `result.__proto__ = x` would change the prototype, not add a key.
          Object.defineProperty(result, key, { value: extraValue, enumerable: true, writable: true, configurable: true });
        }
        if (drop) delete result[drop];
        return result;
      });
  }

  return { valid, field, object };
}

/** What goes on the wire as a body: JSON of a value, or raw bytes under some content type. */
export type BodySpec =
  { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; contentType: string | null; encoding?: string; what: string };

const DEEP = 30_000;

export function bodyArbitrary(schema: JsonSchema, arbitraries: ReturnType<typeof schemaArbitraries>): fc.Arbitrary<BodySpec> {
  const shaped = arbitraries.valid(schema);
  const raw = (
    what: string,
    text: fc.Arbitrary<string>,
    contentType: fc.Arbitrary<string | null> = fc.constant('application/json'),
  ) => fc.tuple(text, contentType).map(([body, type]): BodySpec => ({ kind: 'raw', text: body, contentType: type, what }));
  return fc.oneof(
    { weight: 24, arbitrary: shaped.map((value): BodySpec => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: hostileValue.map((value): BodySpec => ({ kind: 'json', value })) },
    {
      weight: 2,
      arbitrary: raw(
        'invalid JSON',
        fc.oneof(
          fc.constantFrom('{', '{"a":', "{'a':1}", '[1,2', 'undefined', 'NaN', '\u0000', '{"a":1}garbage', '{"a":1,}', '--', ' '),
          shaped.map((value) => JSON.stringify(value).slice(0, -1)),
        ),
      ),
    },
    {
      weight: 1,
      arbitrary: raw(
        'prototype pollution',
        shaped.map(
          (value) =>
            `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${JSON.stringify(value ?? {}).slice(1)}`,
        ),
      ),
    },
    { weight: 1, arbitrary: raw('oversized', fc.constant(`{"name":"${'x'.repeat(150_000)}"}`)) },
    { weight: 1, arbitrary: raw('deeply nested', fc.constant(`${'['.repeat(DEEP)}${']'.repeat(DEEP)}`)) },
    {
      weight: 2,
      arbitrary: raw(
        'wrong content type',
        shaped.map((value) => JSON.stringify(value)),
        fc.constantFrom(
          null,
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/json; charset=utf-7',
          'application/json; charset=ucs-2',
          'application/merge-patch+json',
          'application/jsonp',
          '*/*',
          'application/json, text/plain',
          ';;;',
        ),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          shaped.map((value) => JSON.stringify(value)),
          fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'identity, gzip', 'x-unknown'),
        )
        .map(([text, encoding]): BodySpec => ({
          kind: 'raw',
          text,
          contentType: 'application/json',
          encoding,
          what: 'bad encoding',
        })),
    },
  );
}

/** Header values fetch can send: latin-1 without controls, trimmed. */
export const headerSafe = (text: string, max = 2000) =>
  text
    .replace(/[^\x20-\x7e\xa0-\xff]/g, '')
    .trim()
    .slice(0, max);

export type AuthChoice = 'owner' | 'customer' | 'none' | 'garbage';

export const authArbitrary: fc.Arbitrary<{ choice: AuthChoice; garbage: string }> = fc.record({
  choice: fc.oneof(
    { weight: 5, arbitrary: fc.constant<AuthChoice>('owner') },
    { weight: 1, arbitrary: fc.constant<AuthChoice>('customer') },
    { weight: 2, arbitrary: fc.constant<AuthChoice>('none') },
    { weight: 1, arbitrary: fc.constant<AuthChoice>('garbage') },
  ),
  garbage: fc.oneof(
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'bearer x',
      'Basic YTpi',
      'Bearer a.b.c',
      'Bearer ....',
      'Bearer eyJhbGciOiJub25lIn0.e30.',
    ),
    fc.string({ maxLength: 60 }).map((text) => `Bearer ${text}`),
    hostileString.map((text) => `Bearer ${text}`),
  ),
});

/** The declared parameters of one operation, each valid, hostile or left out. */
export function parametersArbitrary(op: Operation, arbitraries: ReturnType<typeof schemaArbitraries>) {
  const pick = (name: string, schema: JsonSchema, required: boolean) =>
    fc.oneof(
      { weight: 8, arbitrary: arbitraries.valid(schema, name).map((value) => ({ value: String(value), hostile: false })) },
      { weight: 2, arbitrary: hostileScalar.map((value) => ({ value: String(value), hostile: true })) },
      ...(required ? [] : [{ weight: 2, arbitrary: fc.constant(undefined) }]),
    );
  const of = (where: string) =>
    fc.record(
      Object.fromEntries(
        op.parameters.filter((p) => p.in === where).map((p) => [p.name, pick(p.name, p.schema, Boolean(p.required))]),
      ),
    ) as fc.Arbitrary<Record<string, { value: string; hostile: boolean } | undefined>>;
  return fc.record({
    path: of('path'),
    query: of('query'),
    headers: of('header'),
    extraQuery: sometimes(
      fc.oneof(
        fc.constantFrom(
          '%',
          '%%',
          '&&&',
          '=',
          'a[b]=c',
          '__proto__[polluted]=yes',
          'constructor[prototype][polluted]=yes',
          '%E0%A4%A',
          '%00=%00',
        ),
        fc
          .dictionary(fc.string({ maxLength: 8 }), hostileString, { maxKeys: 3 })
          .map((extra) => new URLSearchParams(extra).toString()),
      ),
      5,
    ),
    repeatQuery: sometimes(fc.constant(true), 8),
    forwardedFor: sometimes(fc.oneof(fc.ipV4(), fc.ipV6(), hostileString), 3),
    requestId: sometimes(hostileString, 5),
    accept: sometimes(fc.constantFrom('text/html', 'application/xml', '*/*', 'garbage', 'text/event-stream'), 5),
  });
}
