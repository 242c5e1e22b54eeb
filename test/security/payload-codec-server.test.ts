import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { expect } from 'chai';
import { EncryptionCodec, type PayloadKey } from '../../lib/payload-codec';
import { startCodecServer, type CodecServer } from '../../scripts/codec-server';

const UI = 'http://localhost:8233';
const newKey = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (payload: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(payload.data, 'base64'),
});
const value = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('codec server', () => {
  const old = newKey('2026-11');
  const current = newKey('2026-12');
  const codec = new EncryptionCodec([current, old]);
  let server: CodecServer;

  before(async () => {
    server = await startCodecServer({ codec, host: '127.0.0.1', port: 0, allowedOrigins: [UI] });
  });
  after(() => server.close());

  it('when the UI posts payloads of the old and the new key to /decode, then it answers them decoded, with CORS for its origin', async () => {
    const [fromOld] = await new EncryptionCodec([old]).encode([defaultPayloadConverter.toPayload({ pickupName: 'Old Key' })]);
    const [fromNew] = await codec.encode([defaultPayloadConverter.toPayload({ pickupName: 'New Key' })]);

    const answer = await post(
      `${server.url}/decode`,
      { payloads: [fromOld, fromNew].map((p) => toJson(p!)) },
      { origin: UI, 'x-namespace': 'default' },
    );

    expect(answer.status).to.equal(200);
    expect(answer.headers.get('access-control-allow-origin')).to.equal(UI);
    expect(answer.body.payloads.map(fromJson).map(value)).to.deep.equal([{ pickupName: 'Old Key' }, { pickupName: 'New Key' }]);
  });

  it('when the CLI posts to /{namespace}/encode, then the payloads come back encrypted with the current key', async () => {
    const plain = defaultPayloadConverter.toPayload({ notes: 'from the CLI' });

    const answer = await post(`${server.url}/default/encode`, { payloads: [toJson(plain)] });

    expect(answer.status).to.equal(200);
    const [encoded] = answer.body.payloads.map(fromJson) as Payload[];
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).to.equal('binary/encrypted');
    expect(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString()).to.equal('2026-12');
    expect(value((await codec.decode([encoded!]))[0]!)).to.deep.equal({ notes: 'from the CLI' });
  });

  it('when the browser sends a preflight from the UI, then it may POST with X-Namespace; from another origin, then 403', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });

    const allowed = await preflight(UI);
    const other = await preflight('https://evil.example');

    expect(allowed.status).to.equal(204);
    expect(allowed.headers.get('access-control-allow-origin')).to.equal(UI);
    expect(allowed.headers.get('access-control-allow-methods')).to.equal('POST, OPTIONS');
    expect(allowed.headers.get('access-control-allow-headers')).to.include('x-namespace');
    expect(other.status).to.equal(403);
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    const decode = await post(`${server.url}/decode`, { payloads: [] }, { origin: 'https://evil.example' });
    expect(decode.status).to.equal(403);
    expect(decode.body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
  });

  it('when the request is malformed or cannot be decrypted, then it answers a 4xx with a stable code', async () => {
    const [stranger] = await new EncryptionCodec([newKey('gone')]).encode([defaultPayloadConverter.toPayload('x')]);

    const notJson = await post(`${server.url}/decode`, '{"payloads": [');
    const wrongShape = await post(`${server.url}/decode`, { payloads: [{ data: 'not base64!' }] });
    const unknownKey = await post(`${server.url}/decode`, { payloads: [toJson(stranger!)] });
    const get = await fetch(`${server.url}/decode`);
    const elsewhere = await post(`${server.url}/a/b/decode`, { payloads: [] });

    expect([notJson.status, notJson.body.error.code]).to.deep.equal([400, 'INVALID_JSON']);
    expect([wrongShape.status, wrongShape.body.error.code]).to.deep.equal([400, 'INVALID_PAYLOADS']);
    expect([unknownKey.status, unknownKey.body.error.code]).to.deep.equal([422, 'UNDECODABLE_PAYLOAD']);
    expect(unknownKey.body.error.message).to.equal('payload encrypted with key "gone", which is not in TEMPORAL_PAYLOAD_KEYS');
    expect([get.status, get.headers.get('allow')]).to.deep.equal([405, 'POST, OPTIONS']);
    expect(elsewhere.status).to.equal(404);
  });

  it('when a token is configured, then a request without it gets 401 and one with it is decoded', async () => {
    const token = randomBytes(32).toString('base64url');
    const guarded = await startCodecServer({ codec, host: '127.0.0.1', port: 0, allowedOrigins: [UI], authToken: token });
    try {
      const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('secret order')]);
      const body = { payloads: [toJson(encoded!)] };

      const anonymous = await post(`${guarded.url}/decode`, body);
      const wrong = await post(`${guarded.url}/decode`, body, { authorization: `Bearer ${token}x` });
      const authorized = await post(`${guarded.url}/decode`, body, { authorization: `Bearer ${token}` });

      expect([anonymous.status, anonymous.body.error.code]).to.deep.equal([401, 'UNAUTHORIZED']);
      expect(wrong.status).to.equal(401);
      expect(authorized.status).to.equal(200);
      expect(value(fromJson(authorized.body.payloads[0]))).to.equal('secret order');
    } finally {
      await guarded.close();
    }
  });

  it('when asked to listen beyond loopback without a token, then it refuses to start', async () => {
    let refused: Error | undefined;
    try {
      await startCodecServer({ codec, host: '0.0.0.0', port: 0, allowedOrigins: [UI] });
    } catch (error) {
      refused = error as Error;
    }

    expect(refused?.message).to.match(/set CODEC_SERVER_AUTH_TOKEN to listen on 0\.0\.0\.0/);
  });

  it('when npm run codec-server runs with TEMPORAL_PAYLOAD_KEYS, then it decodes payloads of those keys over HTTP', async function () {
    this.timeout(30_000);
    const keys = `${current.id}:${current.key.toString('base64')},${old.id}:${old.key.toString('base64')}`;
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join('scripts', 'codec-server.ts')], {
      env: { ...process.env, NODE_ENV: 'development', TEMPORAL_PAYLOAD_KEYS: keys, CODEC_SERVER_PORT: '0', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /^codec server on (\S+) \(keys 2026-12, 2026-11;/m.exec(output);
          if (found) resolve(found[1]!);
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`codec server exited with ${code}: ${output}`)));
      });
      const [encoded] = await new EncryptionCodec([old]).encode([defaultPayloadConverter.toPayload({ pickupName: 'Via npm' })]);

      const answer = await post(`${url}/decode`, { payloads: [toJson(encoded!)] }, { origin: UI });

      expect(answer.status).to.equal(200);
      expect(value(fromJson(answer.body.payloads[0]))).to.deep.equal({ pickupName: 'Via npm' });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
