import Router from '@koa/router';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z, type ZodType } from 'zod';
import { badRequest, unauthorized, unsupportedMediaType } from '../../lib/errors';
import type { AppContext, AuthenticatedUser } from './context';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Infer<T> = T extends ZodType ? z.output<T> : undefined;

export interface RouteDefinition<P, Q, B, H> {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /** `user`: a valid access token is required; `none`: public. */
  auth: 'user' | 'none';
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  responses: Record<number, { description: string; schema?: ZodType; contentType?: string }>;
  handler: (
    ctx: AppContext,
    input: { params: Infer<P>; query: Infer<Q>; body: Infer<B>; headers: Infer<H>; user: AuthenticatedUser },
  ) => Promise<Reply | void>;
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable error code' }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

const commonErrors = {
  400: 'Validation failed (VALIDATION_FAILED, INVALID_JSON, INVALID_BODY_ENCODING)',
  429: 'Rate limited (RATE_LIMITED); see Retry-After',
  500: 'Unexpected error (INTERNAL_ERROR)',
} as const;

const bodyErrors = {
  413: 'Body larger than the limit (PAYLOAD_TOO_LARGE)',
  415: 'Body is not application/json (UNSUPPORTED_MEDIA_TYPE)',
} as const;

function validate<T extends ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(
    'VALIDATION_FAILED',
    `Invalid request ${where}`,
    result.error.issues.map((issue) => ({ in: where, path: issue.path.join('.'), message: issue.message })),
  );
}

/** Our bodies nest three levels; a provider's callback a few more. Deeper is an attack on the parser or the stack. */
const MAX_DEPTH = 32;
// Postgres text and jsonb cannot hold U+0000, and a lone UTF-16 surrogate is not text (jsonb refuses
// it, text turns it into U+FFFD): refused here with a 400, not halfway through a transaction or a workflow.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isUnstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

/** The first place in `value` that could not be stored, if any; iterative, so no nesting overflows the stack. */
function unstorable(value: unknown): { path: string; message: string } | undefined {
  const pending: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string' && isUnstorable(current)) {
      return { path: path.join('.'), message: 'Text must not contain NUL characters or unpaired surrogates' };
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= MAX_DEPTH) return { path: path.slice(0, 3).join('.'), message: `Nested deeper than ${MAX_DEPTH} levels` };
    for (const [key, child] of Object.entries(current)) {
      if (isUnstorable(key))
        return { path: path.join('.'), message: 'Field names must not contain NUL characters or unpaired surrogates' };
      pending.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

function refuseUnstorable(inputs: Record<string, unknown>): void {
  for (const [where, value] of Object.entries(inputs)) {
    const found = unstorable(value);
    if (found) throw badRequest('VALIDATION_FAILED', `Invalid request ${where}`, [{ in: where, ...found }]);
  }
}

/**
 * OpenAPI describes parameters one by one, so only an object schema can be documented; a free-form
 * one (a record of whatever the caller sends) would make the whole document fail to generate.
 */
const namedParameters = (schema: unknown) => (schema instanceof z.ZodObject ? (schema as never) : undefined);

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * One definition per route feeds both the Koa router and the OpenAPI registry, so the
 * published description cannot drift from what is served.
 */
export class ApiRoutes {
  readonly router = new Router();
  readonly registry = new OpenAPIRegistry();

  constructor(private readonly authenticate: (ctx: AppContext) => Promise<AuthenticatedUser>) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  }

  add<P extends ZodType | undefined, Q extends ZodType | undefined, B extends ZodType | undefined, H extends ZodType | undefined>(
    route: RouteDefinition<P, Q, B, H>,
  ): void {
    this.register(route);
    this.router[route.method](route.operationId, route.path, async (ctx) => {
      const context = ctx as unknown as AppContext;
      const user = route.auth === 'user' ? await this.authenticate(context) : (undefined as never);
      // `is` answers null without a body and false for a body of another type, which the body
      // parser skipped: better a 415 than validation errors about fields that were sent.
      if (route.body && ctx.request.is('application/json', '+json') === false) {
        throw unsupportedMediaType();
      }
      // Every route, schema or not: the webhook stores its raw query and body as jsonb.
      refuseUnstorable({ path: ctx.params, query: ctx.query, body: (ctx.request as { body?: unknown }).body });
      const input = {
        params: (route.params ? validate(route.params, ctx.params, 'path') : undefined) as Infer<P>,
        query: (route.query ? validate(route.query, ctx.query, 'query') : undefined) as Infer<Q>,
        body: (route.body ? validate(route.body, (ctx.request as { body?: unknown }).body ?? {}, 'body') : undefined) as Infer<B>,
        headers: (route.headers ? validate(route.headers, ctx.headers, 'headers') : undefined) as Infer<H>,
        user,
      };
      const reply = await route.handler(context, input);
      if (!reply) return;
      for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
      ctx.status = reply.status ?? 200;
      if (reply.body !== undefined) ctx.body = reply.body;
    });
  }

  private register(route: RouteDefinition<unknown, unknown, unknown, unknown>): void {
    const responses: Record<string, object> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = response.schema
        ? {
            description: response.description,
            content: { [response.contentType ?? 'application/json']: { schema: response.schema } },
          }
        : { description: response.description };
    }
    const errors = {
      ...commonErrors,
      ...(route.auth === 'user' ? { 401: 'Missing, invalid or expired token' } : {}),
      ...(route.body ? bodyErrors : {}),
    };
    for (const [status, description] of Object.entries(errors)) {
      responses[status] ??= { description, content: { 'application/json': { schema: ErrorSchema } } };
    }
    this.registry.registerPath({
      method: route.method,
      path: toOpenApiPath(route.path),
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      security: route.auth === 'user' ? [{ bearerAuth: [] }] : [],
      request: {
        params: namedParameters(route.params),
        query: namedParameters(route.query),
        headers: namedParameters(route.headers),
        body: route.body ? { required: true, content: { 'application/json': { schema: route.body as ZodType } } } : undefined,
      },
      responses: responses as never,
    });
  }

  document(serverUrl: string) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'cafe-flow API',
        version: '1.0.0',
        description:
          'Backend for coffee shops: accounts, cafés and staff, menus, orders as durable Temporal workflows, and MercadoPago payments. Errors always have the shape {"error":{"code","message","details"}}.',
      },
      servers: [{ url: serverUrl }],
    });
  }
}

export function bearerAuthenticator(verify: (token: string) => Promise<AuthenticatedUser>) {
  return async (ctx: AppContext): Promise<AuthenticatedUser> => {
    const header = ctx.get('Authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!match?.[1]) throw unauthorized('UNAUTHORIZED', 'Send an access token as "Authorization: Bearer <token>"');
    const user = await verify(match[1]);
    ctx.state.user = user;
    return user;
  };
}
