import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, ValueError, type Payload } from '@temporalio/common';
import { expect } from 'chai';
import { ConfigError, DEVELOPMENT_PAYLOAD_KEYS, loadConfig } from '../../lib/config';
import { ENCRYPTED_ENCODING, EncryptionCodec, METADATA_KEY_ID, parsePayloadKeys, type PayloadKey } from '../../lib/payload-codec';

const newKey = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const spec = (...keys: PayloadKey[]) => keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');
const order = { pickupName: 'Zoë Encrypted', notes: 'oat milk, no sugar', customerId: 'b1e5c0de-0000-4000-8000-000000000001' };
const asPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const text = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('payload codec', () => {
  it('when a payload is encoded, then its data and original metadata are ciphertext and it decodes back to the value', async () => {
    const codec = new EncryptionCodec([newKey('k1')]);

    const [encoded] = await codec.encode([asPayload(order)]);

    expect(text(encoded!.metadata!.encoding)).to.equal(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![METADATA_KEY_ID])).to.equal('k1');
    expect(text(encoded!.data)).not.to.include('Zoë');
    expect(text(encoded!.data)).not.to.include('json/plain');
    const [decoded] = await codec.decode([encoded!]);
    expect(fromPayload(decoded!)).to.deep.equal(order);
  });

  it('when the same value is encoded twice, then the ciphertexts differ (a fresh nonce each time)', async () => {
    const codec = new EncryptionCodec([newKey('k1')]);

    const [first, second] = await codec.encode([asPayload(order), asPayload(order)]);

    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).to.equal(false);
  });

  it('when keys rotate (new key first, old kept), then payloads of the old key still decode and new ones use the new key', async () => {
    const old = newKey('2026-11');
    const current = newKey('2026-12');
    const [before] = await new EncryptionCodec([old]).encode([asPayload(order)]);
    const rotated = new EncryptionCodec([current, old]);

    const [after] = await rotated.encode([asPayload(order)]);
    const [oldDecoded, newDecoded] = await rotated.decode([before!, after!]);

    expect(text(after!.metadata![METADATA_KEY_ID])).to.equal('2026-12');
    expect(fromPayload(oldDecoded!)).to.deep.equal(order);
    expect(fromPayload(newDecoded!)).to.deep.equal(order);
  });

  it('when the old key is dropped too early, then decoding fails naming the missing key id', async () => {
    const [before] = await new EncryptionCodec([newKey('2026-11')]).encode([asPayload(order)]);

    const error = await rejection(new EncryptionCodec([newKey('2026-12')]).decode([before!]));

    expect(error).to.be.instanceOf(ValueError);
    expect(error.message).to.equal('payload encrypted with key "2026-11", which is not in TEMPORAL_PAYLOAD_KEYS');
  });

  it('when the ciphertext is altered or relabelled with another key id, then decoding refuses it', async () => {
    const k1 = newKey('k1');
    const k2 = { id: 'k2', key: k1.key };
    const codec = new EncryptionCodec([k1, k2]);
    const [encoded] = await codec.encode([asPayload(order)]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    const relabelled = { ...encoded!, metadata: { ...encoded!.metadata, [METADATA_KEY_ID]: Buffer.from('k2') } };

    const altered = await rejection(codec.decode([{ ...encoded!, data: flipped }]));
    const moved = await rejection(codec.decode([relabelled]));

    expect(altered.message).to.match(/^payload encrypted with key "k1" does not authenticate/);
    expect(moved.message).to.match(/^payload encrypted with key "k2" does not authenticate/);
  });

  it('when a payload was recorded before the codec (plain JSON), then decode passes it through unchanged', async () => {
    const plain = asPayload(order);

    const [decoded] = await new EncryptionCodec([newKey('k1')]).decode([plain]);

    expect(decoded).to.equal(plain);
  });
});

describe('payload keys in the configuration', () => {
  const production = {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(48).toString('base64'),
    DATABASE_URL: 'postgres://cafe:pw@db:5432/cafe',
    MERCADOPAGO_WEBHOOK_SECRET: randomBytes(32).toString('hex'),
  };
  const issues = (env: Record<string, string | undefined>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    return [];
  };

  it('when TEMPORAL_PAYLOAD_KEYS lists two keys, then the first encodes and both are known', () => {
    const [current, old] = [newKey('k2'), newKey('k1')];

    const config = loadConfig({ TEMPORAL_PAYLOAD_KEYS: spec(current, old) });

    expect(config.temporal.payloadKeys.map((key) => key.id)).to.deep.equal(['k2', 'k1']);
    expect(config.temporal.payloadKeys[0]!.key.equals(current.key)).to.equal(true);
  });

  it('when a key is malformed, then loading fails naming the variable and the problem, never the key', () => {
    const short = `k1:${randomBytes(16).toString('base64')}`;

    expect(issues({ TEMPORAL_PAYLOAD_KEYS: short })).to.deep.equal([
      'TEMPORAL_PAYLOAD_KEYS: key "k1" is 16 bytes; AES-256 needs 32 (openssl rand -base64 32)',
    ]);
    expect(issues({ TEMPORAL_PAYLOAD_KEYS: randomBytes(32).toString('base64') })[0]).to.match(
      /^TEMPORAL_PAYLOAD_KEYS: entry 1: expected keyId:base64key/,
    );
    const twice = newKey('k1');
    expect(issues({ TEMPORAL_PAYLOAD_KEYS: spec(twice, twice) })).to.deep.equal([
      'TEMPORAL_PAYLOAD_KEYS: key id "k1" appears twice',
    ]);
  });

  it('when nothing is set outside production, then the development key is used', () => {
    const config = loadConfig({ NODE_ENV: 'development' });

    expect(config.temporal.payloadKeys).to.deep.equal(parsePayloadKeys(DEVELOPMENT_PAYLOAD_KEYS));
  });

  it('when production has no payload key, or only the published development one, then it refuses to start', () => {
    expect(issues(production)).to.deep.equal(['TEMPORAL_PAYLOAD_KEYS: required in production']);
    const [dev] = parsePayloadKeys(DEVELOPMENT_PAYLOAD_KEYS);
    expect(issues({ ...production, TEMPORAL_PAYLOAD_KEYS: spec(newKey('real'), { ...dev!, id: 'renamed' }) })).to.deep.equal([
      'TEMPORAL_PAYLOAD_KEYS: the development key is public; generate one with openssl rand -base64 32',
    ]);
    expect(issues({ ...production, TEMPORAL_PAYLOAD_KEYS: spec(newKey('real')) })).to.deep.equal([]);
  });
});
