import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Capture groups of the route's pattern, decoded. */
  params: string[];
  body: unknown;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A handler either returns a JSON reply or writes the response itself (HTML, redirects). */
export type Handler = (ctx: RequestContext) => Reply | void | Promise<Reply | void>;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export function route(method: string, pattern: RegExp, handler: Handler): Route {
  return { method, pattern, handler };
}

export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match) return { route: candidate, params: match.slice(1).map((p) => decodeURIComponent(p ?? '')) };
  }
  return undefined;
}
