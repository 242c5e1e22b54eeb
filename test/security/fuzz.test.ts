import { expect } from 'chai';
import fc from 'fast-check';
import { Test } from 'mocha';
import { addMember, registerUser, type TestUser } from '../support/fixtures';
import { httpClient, uniqueClientIp, type HttpClient } from '../support/http';
import { openCafe, placeOrder, type Cafe } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  authArbitrary,
  bodyArbitrary,
  headerSafe,
  parametersArbitrary,
  schemaArbitraries,
  type BodySpec,
  type KnownValues,
} from './support/arbitraries';
import {
  fetchOpenApi,
  fillPath,
  operationsOf,
  resolver,
  wellFormed,
  type OpenApiDocument,
  type Operation,
} from './support/openapi';
import { expectErrorShape, leaksIn, send, type RawRequest, type RawResponse } from './support/probe';

/**
 * Every operation of the published OpenAPI document, fed bounded random requests shaped by its
 * own schemas with hostile values mixed in. Whatever arrives, the API answers in its error shape,
 * never with a 5xx, never with its insides. Inputs are deterministic: FUZZ_SEED replays a run,
 * FUZZ_RUNS digs deeper.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_128);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 30);

interface World {
  cafe: Cafe;
  owner: TestUser;
  staff: TestUser;
  customer: TestUser;
  orderId: string;
}

/** A seed of its own per operation, so adding a route does not change what the others get. */
const seedFor = (operationId: string) => [...operationId].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) | 0, SEED);

const clip = (text: string, max = 600) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

function describeRequest(request: RawRequest, bodyWhat: string): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `${name}: ${clip(value, 120)}`)
    .join('; ');
  return `${request.method} ${clip(request.path, 300)} [${headers}] body(${bodyWhat}): ${clip(request.body ?? '<none>', 300)}`;
}

function encodeBody(spec: BodySpec, headers: Record<string, string>): { body: string; what: string } {
  if (spec.kind === 'json') {
    headers['content-type'] = 'application/json';
    return { body: JSON.stringify(spec.value) ?? 'null', what: 'json' };
  }
  if (spec.contentType !== null) headers['content-type'] = spec.contentType;
  if (spec.encoding) headers['content-encoding'] = spec.encoding;
  return { body: spec.text, what: spec.what };
}

describe('security: schema-driven fuzzing of every operation', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let api: HttpClient;
  let world: World;
  let document: OpenApiDocument;
  let operations: Operation[] = [];
  // The logins this file fails lock its own address, not one the rest of the run uses.
  const clientIp = uniqueClientIp();
  /** Everything sent so far: a "leak" that is only our own input echoed back is not one. */
  const sent: string[] = [];

  async function buildWorld(): Promise<World> {
    const cafe = await openCafe(api);
    const staff = await registerUser(api, 'Staff');
    await addMember(api, cafe.owner, cafe.id, staff, 'staff');
    const customer = await registerUser(api, 'Customer');
    const order = await placeOrder(api, customer, cafe);
    return { cafe, owner: cafe.owner, staff, customer, orderId: order.id };
  }

  function arbitrariesFor(op: Operation) {
    const known: KnownValues = {
      ids: {
        businessId: [world.cafe.id],
        productId: world.cafe.products.map((product) => product.id),
        orderId: [world.orderId],
        userId: [world.staff.id, world.customer.id, world.owner.id],
      },
      emails: [world.staff.email, world.customer.email, world.owner.email],
    };
    const schemas = schemaArbitraries(resolver(document), known);
    return fc.record({
      parameters: parametersArbitrary(op, schemas),
      auth: authArbitrary,
      // A POST without a documented body (the webhook) still reads whatever JSON comes.
      body: op.body || op.method === 'POST' ? bodyArbitrary(op.body ?? {}, schemas) : fc.constant(undefined),
    });
  }

  type Generated = ReturnType<typeof arbitrariesFor> extends fc.Arbitrary<infer T> ? T : never;

  /** The wire request for one generated input; `hostilePath` when a path parameter is not what the route expects. */
  function requestFor(op: Operation, { parameters, auth, body }: Generated) {
    const headers: Record<string, string> = {};
    const tokens = { owner: world.owner.token, customer: world.customer.token };
    if (auth.choice === 'owner' || auth.choice === 'customer') headers.authorization = `Bearer ${tokens[auth.choice]}`;
    if (auth.choice === 'garbage') headers.authorization = headerSafe(auth.garbage);
    for (const [name, param] of Object.entries(parameters.headers)) if (param) headers[name] = headerSafe(param.value);
    headers['x-forwarded-for'] = parameters.forwardedFor === null ? clientIp : headerSafe(parameters.forwardedFor);
    if (parameters.requestId !== null) headers['x-request-id'] = headerSafe(parameters.requestId);
    if (parameters.accept !== null) headers.accept = parameters.accept;

    const pathValues = Object.fromEntries(Object.entries(parameters.path).map(([name, param]) => [name, param?.value ?? '']));
    const query = new URLSearchParams();
    for (const [name, param] of Object.entries(parameters.query)) if (param) query.append(name, wellFormed(param.value));
    const first = [...query.keys()][0];
    if (parameters.repeatQuery && first) query.append(first, 'again');
    const queryText = [query.toString(), parameters.extraQuery ?? ''].filter(Boolean).join('&');

    const encoded = body ? encodeBody(body, headers) : undefined;
    const request: RawRequest = {
      method: op.method,
      path: `${fillPath(op.path, pathValues)}${queryText ? `?${queryText}` : ''}`,
      headers,
      body: encoded?.body,
    };
    sent.push(request.path, ...Object.values(pathValues), ...Object.values(headers), ...(encoded ? [encoded.body] : []));
    return {
      request,
      hostilePath: Object.values(parameters.path).some((param) => param?.hostile),
      summary: describeRequest(request, encoded?.what ?? '-'),
    };
  }

  function fuzzOperation(op: Operation) {
    return fc.asyncProperty(arbitrariesFor(op), async (generated) => {
      const { request, hostilePath, summary } = requestFor(op, generated);
      let response: RawResponse;
      try {
        response = await send(stack.baseUrl, request);
      } catch (error) {
        throw new Error(`no answer (${(error as Error).message}) to ${summary}`);
      }
      const context = `${response.status} ${clip(response.text)}\n  to ${summary}`;
      expect(response.status, `a 5xx: ${context}`).to.be.below(500);
      expect(leaksIn(response.text, sent), `internals in the answer: ${context}`).to.deep.equal([]);
      if (response.status >= 300) expectErrorShape(response, context);
      const code = (response.json as { error?: { code?: string } } | undefined)?.error?.code;
      // A hostile path segment may miss the route altogether; everything else is in the document.
      const offRoute = hostilePath && (code === 'ROUTE_NOT_FOUND' || code === 'METHOD_NOT_ALLOWED');
      if (!offRoute) expect(op.statuses, `a status the document does not list: ${context}`).to.include(response.status);
    });
  }

  before(async function () {
    stack = await startStack({ name: 'fuzz', env: { RATE_LIMIT_PER_MINUTE: '1000000', TRUST_PROXY: 'true' } });
    api = httpClient(stack.baseUrl, { 'x-forwarded-for': clientIp });
    world = await buildWorld();
    document = await fetchOpenApi(stack.baseUrl);
    operations = operationsOf(document);

    // One test per documented operation: the list comes from the running stack, so tests are added here.
    const suite = this.test!.parent!;
    for (const op of operations) {
      suite.addTest(
        new Test(
          `when ${op.method} ${op.path} (${op.operationId}) gets ${RUNS_PER_OPERATION} random and hostile requests, then no 5xx, no internals and every error in the error shape`,
          async () => {
            const seed = seedFor(op.operationId);
            const details = await fc.check(fuzzOperation(op), { seed, numRuns: RUNS_PER_OPERATION, endOnFailure: true });
            if (details.failed) {
              const error = details.errorInstance as Error | undefined;
              expect.fail(
                `${op.operationId} failed on run ${details.numRuns} (seed ${details.seed}, path ${details.counterexamplePath}; replay with FUZZ_SEED=${SEED}):\n${error?.message ?? String(details.errorInstance)}`,
              );
            }
          },
        ),
      );
    }
    suite.addTest(
      new Test(
        'when the fuzzing is over, then Object.prototype is clean, the stack is ready and no request died unhandled',
        async () => {
          expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
          expect((await api.get('/ready')).status).to.equal(200);
          const unhandled = stack.logs.lines.filter((line) => line.includes('"msg":"unhandled error"'));
          expect(unhandled.map((line) => clip(line, 400))).to.deep.equal([]);
        },
      ),
    );
  });
  after(() => stack?.stop());

  it('when /openapi.json is read from the running stack, then it lists the operations to fuzz', () => {
    expect(document.openapi).to.match(/^3\./);
    expect(operations.length).to.be.greaterThan(20);
    expect(new Set(operations.map((op) => op.operationId)).size).to.equal(operations.length);
  });
});
