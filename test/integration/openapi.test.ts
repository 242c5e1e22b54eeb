import { expect } from 'chai';
import { createApp } from '../../api/app';
import { type TestStack } from '../support/stack';
import { useOrderStack } from '../support/use-stack';

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** `METHOD /path/{param}` for every operation the router serves (HEAD comes with GET). */
function servedOperations(stack: TestStack): string[] {
  const { routes, close } = createApp({
    config: stack.config,
    db: stack.db,
    logger: stack.logger,
    metrics: stack.metrics,
    temporal: stack.client,
    readiness: {},
  });
  void close();
  return routes.router.stack.flatMap((layer) =>
    layer.methods
      .map((method) => method.toLowerCase())
      .filter((method) => HTTP_METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
  );
}

function documentedOperations(document: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('OpenAPI document and docs', () => {
  const the = useOrderStack({ name: 'openapi', withWorker: false, cafe: false, customer: false });

  it('when /openapi.json is fetched, then an OpenAPI 3.1 document served from the public base URL', async () => {
    const res = await the.api.get('/openapi.json');

    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.body.openapi).to.equal('3.1.0');
    expect(res.body.info).to.include({ title: 'cafe-flow API' });
    expect(res.body.servers).to.deep.equal([{ url: the.stack.baseUrl }]);
    expect(res.body.components.securitySchemes.bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
  });

  it('when the router and the document are compared, then they list the same methods and paths', async () => {
    const document = (await the.api.get('/openapi.json')).body;

    const served = servedOperations(the.stack);
    const documented = documentedOperations(document);

    expect(served).to.have.length.greaterThan(0);
    expect(new Set(served).size, 'no route is registered twice').to.equal(served.length);
    expect(documented).to.have.members(served);
  });

  it('when an operation needs a token, then it declares bearerAuth and a 401; public ones declare no security', async () => {
    const document = (await the.api.get('/openapi.json')).body;

    const me = document.paths['/v1/me'].get;
    const login = document.paths['/v1/auth/login'].post;

    expect(me.security).to.deep.equal([{ bearerAuth: [] }]);
    expect(me.responses).to.have.property('401');
    expect(login.security).to.deep.equal([]);
  });

  it('when a route has path parameters, then each is documented as a required path parameter', async () => {
    const document = (await the.api.get('/openapi.json')).body;

    for (const [path, item] of Object.entries(document.paths) as [string, Record<string, { parameters?: unknown[] }>][]) {
      const expected = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, operation] of Object.entries(item)) {
        if (!HTTP_METHODS.includes(method)) continue;
        const declared = ((operation.parameters ?? []) as { in: string; name: string; required?: boolean }[]).filter(
          (p) => p.in === 'path',
        );
        expect(declared.map((p) => p.name).sort(), `${method.toUpperCase()} ${path}`).to.deep.equal([...expected].sort());
        expect(declared.every((p) => p.required === true)).to.equal(true);
      }
    }
  });

  it('when every operation is listed, then each has a unique operationId and a documented error shape', async () => {
    const document = (await the.api.get('/openapi.json')).body;
    const operations = Object.values(document.paths).flatMap((item) =>
      Object.entries(item as Record<string, { operationId: string; responses: Record<string, unknown> }>)
        .filter(([method]) => HTTP_METHODS.includes(method))
        .map(([, operation]) => operation),
    );

    const ids = operations.map((operation) => operation.operationId);

    expect(new Set(ids).size).to.equal(ids.length);
    for (const operation of operations) expect(operation.responses, operation.operationId).to.include.keys('400', '429', '500');
    expect(document.components.schemas.Error).to.be.an('object');
  });

  it('when a money field is documented, then it is an integer', async () => {
    const document = (await the.api.get('/openapi.json')).body;

    expect(document.components.schemas.ProductInput.properties.priceMinor.type).to.equal('integer');
    expect(document.components.schemas.Product.properties.priceMinor.type).to.equal('integer');
  });

  it('when /docs is opened, then an HTML page whose scripts and stylesheet are all served', async () => {
    const page = await the.api.get('/docs');

    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const assets = [...(page.body as string).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).to.include.members(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
    for (const asset of assets) {
      const res = await the.api.get(asset);
      expect(res.status, asset).to.equal(200);
      expect(res.headers.get('content-type'), asset).to.match(asset.endsWith('.css') ? /^text\/css/ : /^application\/javascript/);
      expect(String(res.body).length, asset).to.be.greaterThan(10);
    }
    expect((await the.api.get('/docs/init.js')).body).to.include("url: '/openapi.json'");
  });

  it('when /docs is served, then its Content-Security-Policy allows no inline script', async () => {
    const page = await the.api.get('/docs');

    const csp = page.headers.get('content-security-policy') ?? '';
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? '';
    expect(scriptSrc).to.include("'self'");
    expect(scriptSrc).not.to.include('unsafe-inline');
    expect(page.body).not.to.match(/<script>[^<]/);
  });

  it('when an asset outside the allow-list is asked for, then 404 and nothing is read from disk', async () => {
    for (const path of ['/docs/package.json', '/docs/..%2Fpackage.json', '/docs/index.html']) {
      const res = await the.api.get(path);

      expect(res.status, path).to.equal(404);
      expect(res.body.error.code, path).to.equal('ROUTE_NOT_FOUND');
    }
  });
});
